"""gunicorn as the production server: the options `channel serve` and `gunicorn_conf.py` share, and
an embedded gunicorn application that builds the Flask app inside each worker (after the fork, so
no database connection crosses it)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from infra.settings import Settings


def configure_logging() -> None:
    """Request log lines (with request id, never a key) to stderr, as gunicorn's own."""
    logger = logging.getLogger("channel")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s")
        )
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


# Set in the master once the tables exist; the workers, forked from it, inherit it.
_tables_ready = False


def prepare_database(settings: Settings) -> None:
    """Create every table once, in the master, before the workers start: DDL run by several
    workers at once on PostgreSQL fails in all but one ("tuple concurrently updated")."""
    global _tables_ready
    from services.bootstrap import build_key_store, build_runtime

    configure_logging()  # the master's lines too (a read-model fault met at start, say)
    build_key_store(settings, bootstrap_keys=False).close()
    build_runtime(settings, lead=False).close()
    _tables_ready = True


def in_worker() -> None:
    """In a worker, before the app is built: log setup, and no DDL when the master made the
    tables (eventsourcing reads CREATE_TABLE from the environment)."""
    configure_logging()
    if _tables_ready:
        os.environ["CREATE_TABLE"] = "n"


def gunicorn_options(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    return {
        "bind": f"{host or settings.CHANNEL_HOST}:{port or settings.CHANNEL_PORT}",
        "workers": workers or settings.CHANNEL_WORKERS,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": 60,
        "graceful_timeout": 10,
        # gunicorn's largest request line: a long query (repeated `page`, a long period) gets the
        # API's 422 naming the field rather than gunicorn's HTML 414.
        "limit_request_line": 8190,
        "accesslog": None,  # the app logs each request itself, with its request id
        "errorlog": "-",
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
        in_worker()
        return self.factory()
