"""One error body for every refusal, `{code, status, message, errors?, rule?, read_model?,
request_id}`, and the mapping from domain errors to status codes. No traceback ever reaches a
client."""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing import persistence
from flask import Flask, Response, g, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from domain.errors import (
    ChannelError,
    ConcurrencyError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from projections.faults import ReadModelStoppedError

log = logging.getLogger("channel.http")


class ErrorSchema(Schema):
    code = fields.Integer(required=True, metadata={"description": "the HTTP status code"})
    status = fields.String(required=True, metadata={"description": "its name"})
    message = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "field → messages (422)"},
    )
    rule = fields.String(metadata={"description": "the RULES.md id that refuses (409)"})
    read_model = fields.Dict(metadata={
        "description": "a stopped read model (503): its `position`, `stopped_at` (the log "
        "position of the event it cannot apply), `event_type`, `reason`, `since`"})
    request_id = fields.String()


def body(
    code: int,
    message: str,
    *,
    errors: dict[str, list[str]] | None = None,
    rule: str | None = None,
    read_model: dict[str, Any] | None = None,
) -> tuple[Response, int]:
    payload: dict[str, Any] = {
        "code": code,
        "status": HTTPStatus(code).phrase,
        "message": message,
    }
    if errors:
        payload["errors"] = errors
    if rule:
        payload["rule"] = rule
    if read_model:
        payload["read_model"] = read_model
    payload["request_id"] = g.get("request_id", "")
    return jsonify(payload), code


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as `{"lines.0.qty": ["…"]}`, request locations dropped."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    if not isinstance(messages, dict):
        return {prefix or "_schema": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten(value, name))
    return flat


def handle_http(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages is not None:
        # webargs: a body or query that fails its schema (400 for unparsable JSON, same remedy).
        errors: dict[str, list[str]] = {}
        for location_messages in messages.values():
            errors.update(flatten(location_messages))
        return body(422, "the request does not match its schema", errors=errors)
    if code >= 500:
        return handle_unexpected(error)
    response, status = body(code, error.description or HTTPStatus(code).phrase)
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="channel"'
    valid_methods = getattr(error, "valid_methods", None)
    if code == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response, status


def handle_channel(error: ChannelError) -> ResponseReturnValue:
    errors = {error.field: [error.message]} if error.field else None
    if isinstance(error, RuleViolationError):
        return body(409, error.message, errors=errors, rule=error.rule)
    if isinstance(error, InvalidInputError):
        return body(422, error.message, errors=errors or {"_schema": [error.message]})
    if isinstance(error, NotFoundError):
        return body(404, error.message)
    if isinstance(error, ConcurrencyError):
        return body(409, error.message)
    return body(409, error.message, rule=error.rule)


def handle_stopped(error: ReadModelStoppedError) -> ResponseReturnValue:
    return body(503, error.message, read_model=error.as_dict())


# The database not answering (restarted, unreachable, its pool exhausted): 503 with Retry-After,
# so a client retries (with its client reference or Idempotency-Key, which cannot double a write).
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    persistence.InterfaceError, persistence.OperationalError, psycopg.OperationalError,
    psycopg.InterfaceError, psycopg_pool.PoolTimeout, sqlite3.OperationalError,
)
RETRY_AFTER_SECONDS = 2


def unavailable(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _UNAVAILABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def handle_unexpected(error: BaseException) -> ResponseReturnValue:
    original = getattr(error, "original_exception", None) or error
    if unavailable(original):
        log.warning("request %s: the database does not answer: %s", g.get("request_id", "-"),
                    type(original).__name__)
        response, status = body(503, "the database does not answer; retry shortly (the same "
                                "client reference or Idempotency-Key makes the retry safe)")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, status
    log.error(
        "request %s failed: %s", g.get("request_id", "-"), type(original).__name__,
        exc_info=original,
    )
    return body(
        500,
        "internal error; quote the request id to the operator",
    )


def register(app: Flask) -> None:
    """The handlers beside flask-smorest's own for HTTPException (`Api.handle_http_exception`,
    which answers with `handle_http`)."""
    app.register_error_handler(ChannelError, handle_channel)
    app.register_error_handler(ReadModelStoppedError, handle_stopped)  # the more specific class
    app.register_error_handler(Exception, handle_unexpected)
