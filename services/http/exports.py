"""Reports and slips as files over HTTP: `?format=csv|xlsx|json`, or else the `Accept` header,
picks the answer's form (DESIGN "Lists and formats"); JSON stays the default."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema

from domain.errors import InvalidInputError
from services.exports import CSV, XLSX, ZIP, export
from services.http.auth import guard
from services.http.keys import Role

JSON = "application/json"
FORMATS = {"json": JSON, "csv": CSV, "xlsx": XLSX}
FILE_CONTENT = {
    CSV: {"schema": {"type": "string"}},
    ZIP: {"schema": {"type": "string", "format": "binary"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}},
}


def requested_format() -> str:
    asked = request.args.get("format")
    if asked is not None:
        if asked not in FORMATS:
            raise InvalidInputError(f"format: one of {', '.join(FORMATS)}, not {asked!r}", field="format")
        return asked
    best = request.accept_mimetypes.best_match([JSON, CSV, XLSX], default=JSON)
    return next(name for name, media in FORMATS.items() if media == best)


def exportable(
    blp: Blueprint, report: str, schema: type[Schema]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Place under `@blp.response(200, schema)`: the view's answer as a CSV, zip or xlsx file when
    asked; the document names the JSON answer and the file types."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            fmt = requested_format()
            found = view(*args, **kwargs)
            if fmt == "json":
                return found
            content, media, suffix = export(report, found, fmt)
            name = f"{report}-{_label()}.{suffix}"
            return Response(content, mimetype=media, headers={
                "Content-Disposition": f'attachment; filename="{name}"'})

        documented: Callable[..., Any] = blp.doc(
            responses={"200": {"content": {JSON: {"schema": schema}, **FILE_CONTENT}}}
        )(wrapper)
        return documented

    return decorate


def report(
    blp: Blueprint, rule: str, name: str, query: type[Schema], answer: type[Schema], *roles: Role
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A report's GET route: `roles` may read it (`guard`), `query` is its query string, `answer`
    its JSON answer, also given as CSV, zip or xlsx (`exportable`, tables named `name`)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        made = exportable(blp, name, answer)(view)
        made = blp.response(200, answer)(made)
        made = blp.arguments(query, location="query")(made)
        made = guard(*roles)(made)
        routed: Callable[..., Any] = blp.route(rule, methods=["GET"])(made)
        return routed

    return decorate


def _label() -> str:
    for key in ("period", "month", "week"):
        if request.args.get(key):
            return "".join(ch for ch in request.args[key] if ch.isalnum() or ch == "-")
    return "all"
