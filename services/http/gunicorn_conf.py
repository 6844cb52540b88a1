"""gunicorn settings from the environment (CHANNEL_HOST, CHANNEL_PORT, CHANNEL_WORKERS), the same
ones `channel serve` uses:

    gunicorn -c services/http/gunicorn_conf.py 'services.http.wsgi:create()'
"""

from __future__ import annotations

from infra.settings import load
from services.http.server import gunicorn_options

globals().update(gunicorn_options(load()))
