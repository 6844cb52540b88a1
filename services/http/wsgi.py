"""The WSGI entry point for running gunicorn directly, settings from the environment:

    gunicorn -c services/http/gunicorn_conf.py 'services.http.wsgi:create()'
"""

from __future__ import annotations

from flask import Flask

from infra.settings import load
from services.http.app import create_app
from services.http.server import worker_app


def create() -> Flask:
    return worker_app(lambda: create_app(load()))
