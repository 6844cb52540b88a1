"""gunicorn settings from the environment (CHANNEL_HOST, CHANNEL_PORT, CHANNEL_WORKERS), the same
ones `channel serve` uses:

    gunicorn -c services/http/gunicorn_conf.py 'services.http.wsgi:create()'
"""

from __future__ import annotations

from typing import Any

from infra.settings import load
from services.http.server import gunicorn_options, prepare_database

globals().update(gunicorn_options(load()))


def on_starting(server: Any) -> None:
    """In the master, before any worker: create the tables once."""
    prepare_database(load())
