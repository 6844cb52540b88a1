# The Channel Ledger image: the HTTP intake (gunicorn), the relay and the reporting consumer all
# run from it (see docker-compose.yml): `channel serve`, `channel relay`, `channel consume`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so that a change of the code does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p domain projections services infra examples policy \
    && for p in domain projections services infra examples policy; do touch "$p/__init__.py"; done \
    && pip install . \
    && pip uninstall --yes channel-ledger \
    && rm -rf domain projections services infra examples policy build

COPY domain ./domain
COPY projections ./projections
COPY services ./services
COPY infra ./infra
COPY examples ./examples
COPY policy ./policy
RUN pip install --no-deps . && rm -rf build

# policy/default.toml is package data: an empty store records it as its first policy version.
ENV CHANNEL_HOST=0.0.0.0 \
    CHANNEL_PORT=8000

RUN useradd --system --uid 10001 --home-dir /app channel \
    && mkdir -p /app/var && chown channel /app/var
USER channel

EXPOSE 8000
ENTRYPOINT ["channel"]
CMD ["serve"]
