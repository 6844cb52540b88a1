# The README's commands. Each target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# `make demo` fills it and `make serve` shows it (console at /console/); DATABASE=... for another.
DATABASE ?= sqlite:///var/demo.db

.PHONY: demo serve test unit integration e2e lint typecheck bench clean browser tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/channel demo --database $(DATABASE) --fresh

serve: $(STAMP)
	$(BIN)/channel serve --database $(DATABASE)

# The console's browser tests drive Debian's chromium and chromium-driver: installed when missing
# (CI runs as root), else one line saying why not.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and chromium-driver (apt-get)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null || \
	    { echo "make: cannot install chromium and chromium-driver with apt-get; the console's browser tests need /usr/bin/chromium and /usr/bin/chromedriver" >&2; exit 1; }; \
	  else \
	    echo "make: /usr/bin/chromium or /usr/bin/chromedriver is missing; install Debian's chromium and chromium-driver (as root: apt-get install -y chromium chromium-driver)" >&2; exit 1; \
	  fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check domain projections services infra tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

# LibreOffice reads the xlsx exports back in the integration tests (CI runs as root).
tools:
	@command -v soffice >/dev/null || { apt-get update -qq && apt-get install -y -qq libreoffice-calc-nogui; }

integration: $(STAMP) tools
	$(BIN)/pytest tests/integration -q

e2e: $(STAMP) browser
	$(BIN)/pytest tests/e2e -q

test: lint typecheck $(STAMP) browser tools
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/*.db var/*.db-*
