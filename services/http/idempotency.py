"""`Idempotency-Key` on every POST (IETF httpapi idempotency-key-header draft): the first answer to
a key is stored, per API key, in a table of the same database; a repeat with the same body gets
that answer again (status and body, `Idempotent-Replayed: true`) and writes nothing; the same key
with another body is 422; a repeat while the first is still being answered is 409. An answer of
5xx is not kept (the client may retry it)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, g, request
from flask.typing import ResponseReturnValue

from infra.sql import Datastore, transaction
from services.http import errors

log = logging.getLogger("channel.http")
TABLE = "channel_idempotency"
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int | None  # None while the first request is in flight
    body: str
    started: float


class IdempotencyStore:
    """The table, in the key store's database (SQLite file or the URL's PostgreSQL schema), through
    the one SQL helper (`infra/sql.py`) over the key store's datastore."""

    def __init__(self, datastore: Datastore, abandoned_after: float = 30.0) -> None:
        # A first request still in flight after `abandoned_after` seconds died with its worker
        # (CHANNEL_IDEMPOTENCY_ABANDON_AFTER): a repeat then runs again.
        self.datastore = datastore
        self.abandoned_after = abandoned_after
        with self._db() as db:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS @{TABLE} (api_key TEXT NOT NULL, idem_key TEXT NOT NULL,"
                " fingerprint TEXT NOT NULL, status INTEGER, body TEXT NOT NULL DEFAULT '',"
                " started DOUBLE PRECISION NOT NULL, PRIMARY KEY (api_key, idem_key))")

    def _db(self) -> Any:
        return transaction(self.datastore, commit=True)

    def claim(self, api_key: str, key: str, fingerprint: str) -> Stored | None:
        """None: this request is the first with the key (now in flight); else what is stored."""
        now = time.time()
        with self._db() as db:
            db.execute(
                f"INSERT INTO @{TABLE} (api_key, idem_key, fingerprint, started) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (api_key, idem_key) DO NOTHING",
                (api_key, key, fingerprint, now))
            if db.cursor.rowcount:
                return None
            # An abandoned first request (its worker died) is taken over by this one.
            db.execute(
                f"UPDATE @{TABLE} SET started = ? WHERE api_key = ? AND idem_key = ?"
                " AND status IS NULL AND fingerprint = ? AND started < ?",
                (now, api_key, key, fingerprint, now - self.abandoned_after))
            if db.cursor.rowcount:
                return None
            row = db.one(
                f"SELECT fingerprint, status, body, started FROM @{TABLE}"
                " WHERE api_key = ? AND idem_key = ?", (api_key, key))
        return Stored(row["fingerprint"], row["status"], row["body"], row["started"])

    def complete(self, api_key: str, key: str, status: int, body: str) -> None:
        with self._db() as db:
            db.execute(f"UPDATE @{TABLE} SET status = ?, body = ? WHERE api_key = ? AND idem_key = ?",
                       (status, body, api_key, key))

    def release(self, api_key: str, key: str) -> None:
        with self._db() as db:
            db.execute(
                f"DELETE FROM @{TABLE} WHERE api_key = ? AND idem_key = ? AND status IS NULL",
                (api_key, key))


def _store() -> IdempotencyStore:
    store: IdempotencyStore = current_app.extensions["channel"].idempotency
    return store


def fingerprint() -> str:
    """The request as the draft compares it: method, path, query and the body's JSON value (so
    whitespace and key order do not matter)."""
    data = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")) if data else ""
    except ValueError:
        canonical = data.decode("utf-8", "replace")
    text = f"{request.method} {request.full_path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def before() -> ResponseReturnValue | None:
    """`before_request`, after authentication and the body limits."""
    key = request.headers.get(HEADER)
    principal = g.get("principal")
    if key is None or request.method != "POST" or principal is None:
        return None
    key = key.strip().strip('"')
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        message = f"{HEADER}: 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        return errors.body(422, message, errors={HEADER: [message]})
    stored = _store().claim(principal.key_id, key, fingerprint())
    if stored is None:
        g.idempotency = (principal.key_id, key)
        return None
    if stored.fingerprint != fingerprint():
        message = f"{HEADER}: this key was used with another request; use a new key"
        return errors.body(422, message, errors={HEADER: [message]})
    if stored.status is None:
        response, status = errors.body(409, f"{HEADER}: the first request with this key is "
                                       "still being answered; retry in a moment")
        response.headers["Retry-After"] = "1"
        return response, status
    replay = Response(stored.body, status=stored.status, mimetype="application/json")
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def after(response: Response) -> Response:
    """`after_request`: keep the first answer (not a 5xx: that one may be retried)."""
    claimed: tuple[str, str] | None = g.pop("idempotency", None)
    if claimed is not None:
        api_key, key = claimed
        try:
            if response.status_code >= 500:
                _store().release(api_key, key)
            else:
                _store().complete(api_key, key, response.status_code,
                                  response.get_data(as_text=True))
        except Exception as error:  # the database went away meanwhile: the claim is abandoned
            log.warning("Idempotency-Key %r: answer not kept (%s)", key, type(error).__name__)
    return response


def teardown(error: BaseException | None) -> None:
    """A request that raised past every handler: release its claim."""
    claimed: tuple[str, str] | None = g.pop("idempotency", None)
    if claimed is not None:
        with contextlib.suppress(Exception):  # abandoned: taken over after abandoned_after
            _store().release(claimed[0], claimed[1])
