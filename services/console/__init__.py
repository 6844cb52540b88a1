"""The web console (DESIGN "Web console"): server-rendered pages under /console/ over the same
application service and read-model queries as the HTTP API, so every rule and refusal is the API's
own. Signed session cookie (HttpOnly, SameSite=Strict), CSRF token on every form, Chinese and
English (Flask-Babel), assets served by the application."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel, get_locale

from services.console import auditor, dealer, finance, manager, pages, sales
from services.http.keys import KeyStore, embedded_keys_file

HERE = Path(__file__).resolve().parent
LANGUAGES = ("en", "zh")


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def secret_key(database_url: str, keys: KeyStore) -> str:
    """CHANNEL_CONSOLE_SECRET; else a secret kept beside the embedded SQLite file; else one derived
    from the bootstrap keys' digests (secret as they are, shared by every worker)."""
    given = os.environ.get("CHANNEL_CONSOLE_SECRET", "")
    if given:
        return given
    beside = embedded_keys_file(database_url)
    if beside is not None:
        path = beside.with_suffix(".console-secret")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            scratch = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
            scratch.touch(mode=0o600)
            scratch.write_text(secrets.token_urlsafe(32), encoding="utf-8")
            scratch.replace(path)
        return path.read_text(encoding="utf-8").strip()
    if keys.bootstrap:
        return hashlib.sha256(("console:" + ",".join(sorted(keys.bootstrap))).encode()).hexdigest()
    return secrets.token_urlsafe(32)  # one process only: sessions do not outlive it


def register(app: Flask, database_url: str, keys: KeyStore) -> None:
    app.secret_key = secret_key(database_url, keys)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="channel_console",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by the console's own pages; the API uses keys
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
    )
    pages.csrf.init_app(app)
    Babel(app, locale_selector=_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    for module in (pages, dealer, sales, manager, finance, auditor):
        app.register_blueprint(module.bp)
