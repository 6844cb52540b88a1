"""gunicorn settings from the environment (CHANNEL_HOST, CHANNEL_PORT, CHANNEL_WORKERS), the same
ones `channel serve` uses:

    gunicorn -c services/http/gunicorn_conf.py 'services.http.wsgi:create()'
"""

from __future__ import annotations

import sys
from typing import Any

from domain.errors import ChannelError
from infra.settings import load
from services.http.server import gunicorn_options, prepare_database

globals().update(gunicorn_options(load()))


def on_starting(server: Any) -> None:
    """In the master, before any worker: check the settings, create the tables once. A wrong
    setting is one line and exit status 1, not worker tracebacks."""
    try:
        prepare_database(load())
    except ChannelError as error:
        print(f"channel-intake: {error.message}", file=sys.stderr, flush=True)
        sys.exit(1)
