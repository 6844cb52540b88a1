"""gunicorn as the production server: the options `channel serve` and `gunicorn_conf.py` share, and
an embedded gunicorn application that builds the Flask app inside each worker (after the fork, so
no database connection crosses it)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from infra import logs
from infra.heap import freeze_long_lived
from infra.settings import Settings, load


def configure_logging(settings: Settings | None = None) -> None:
    """Request log lines (with request id, never a key) to stderr, as gunicorn's own; escaped, or
    JSON with CHANNEL_LOG_FORMAT=json."""
    logs.configure((settings or load()).CHANNEL_LOG_FORMAT)


def gunicorn_logging(kind: str) -> dict[str, Any]:
    """gunicorn's own error log in the same format as the application's."""
    formatter = "infra.logs.JsonFormatter" if kind == "json" else "infra.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"channel": {"()": formatter}},
        "handlers": {"error_console": {"class": "logging.StreamHandler",
                                       "formatter": "channel", "stream": "ext://sys.stderr"}},
        # gunicorn's defaults are replaced key by key: root and gunicorn.access named too. The
        # app logs each request itself (with its request id): gunicorn's access lines stay off.
        "root": {"level": "INFO", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


# Set in the master once the tables exist; the workers, forked from it, inherit it.
_tables_ready = False


def prepare_database(settings: Settings) -> None:
    """Create every table once, in the master, before the workers start: DDL run by several
    workers at once on PostgreSQL fails in all but one ("tuple concurrently updated")."""
    global _tables_ready
    from infra.preflight import check_database
    from services.bootstrap import build_key_store, build_runtime
    from services.http.keys import load_bootstrap

    # A wrong setting is one line here, in the master, before any worker starts.
    load_bootstrap(settings.CHANNEL_API_KEYS)
    check_database(settings.CHANNEL_DATABASE_URL, create=True)
    configure_logging(settings)  # the master's lines too (a read-model fault met at start, say)
    from services.http.idempotency import IdempotencyStore

    keys = build_key_store(settings, bootstrap_keys=False)
    IdempotencyStore(keys.datastore)  # its table too, before the workers
    keys.close()
    build_runtime(settings, lead=False).close()
    _tables_ready = True


def in_worker() -> None:
    """In a worker, before the app is built: log setup, and no DDL when the master made the
    tables (eventsourcing reads CREATE_TABLE from the environment)."""
    configure_logging()
    if _tables_ready:
        os.environ["CREATE_TABLE"] = "n"


def worker_app(factory: Callable[[], Flask]) -> Flask:
    """The app a worker serves, built after `in_worker`. What the worker holds by then (modules,
    schemas, the OpenAPI spec, pools) lives as long as it, so it is then frozen out of the cyclic
    collector's walks (infra/heap.py): left in, every full collection walked it with the requests
    of the worker waiting — pauses of 100–190 ms, about one per 1,300 orders placed over four
    workers (bench `http`)."""
    in_worker()
    app = factory()
    freeze_long_lived()
    return app


def gunicorn_options(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    return {
        "bind": f"{host or settings.CHANNEL_HOST}:{port or settings.CHANNEL_PORT}",
        "workers": workers or settings.CHANNEL_WORKERS,
        # Threads, and headers gathered by the poller: idle or half-sent connections hold no
        # thread, and are closed after CHANNEL_HEADER_TIMEOUT / CHANNEL_KEEPALIVE.
        "threads": threads or settings.CHANNEL_THREADS,
        "worker_class": "services.http.worker.ChannelThreadWorker",
        "keepalive": max(1, round(settings.CHANNEL_KEEPALIVE)),  # gunicorn takes whole seconds
        "worker_connections": 1000,  # open connections per worker, at most
        "timeout": 60,
        "graceful_timeout": 10,
        # gunicorn's largest request line: a long query (repeated `page`, a long period) gets the
        # API's 422 naming the field rather than gunicorn's HTML 414.
        "limit_request_line": 8190,
        "accesslog": None,  # the app logs each request itself, with its request id
        "errorlog": "-",
        "logconfig_dict": gunicorn_logging(settings.CHANNEL_LOG_FORMAT),
        "loglevel": "info",
        "proc_name": "channel-intake",
        # gunicorn ≥ 25 opens a control socket at one fixed path per user: several servers on
        # one machine (tests, benchmarks) would share it.
        "control_socket_disable": True,
    }


class Server(BaseApplication):
    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are left
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return worker_app(self.factory)
