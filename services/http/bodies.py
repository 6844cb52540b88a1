"""Request bodies read within limits before any schema sees them: nesting depth, number literal
length, the JSON grammar itself (no NaN or Infinity). A body past a limit is 422 naming the limit,
never a 500 from deep recursion or a 5,000-digit integer (the size limit is MAX_CONTENT_LENGTH)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from services.http import errors

MAX_DEPTH = 32  # the deepest body the API takes is 3 (an order's lines); 32 leaves room
MAX_NUMBER_LENGTH = 64  # characters of one number literal (money is a string anyway)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class BodyError(ValueError):
    """A body that is not JSON or goes past a limit; `field` names where."""

    def __init__(self, message: str, field: str = "_body") -> None:
        super().__init__(message)
        self.field = field


def depth(text: str) -> int:
    """How deep arrays and objects nest, strings (and the brackets in them) left out."""
    deepest = level = 0
    for bracket in _BRACKETS.findall(_STRING.sub('""', text)):
        level += 1 if bracket in "[{" else -1
        deepest = max(deepest, level)
    return deepest


def _number(kind: type[int] | type[float]) -> Any:
    def parse(literal: str) -> Any:
        if len(literal) > MAX_NUMBER_LENGTH:
            raise BodyError(f"a number literal of {len(literal)} characters; at most "
                            f"{MAX_NUMBER_LENGTH} are read")
        return kind(literal)

    return parse


def _constant(name: str) -> Any:
    raise BodyError(f"{name} is not JSON")


def parse(data: bytes) -> Any:
    """The body as JSON within the limits, or BodyError saying which limit or where it breaks."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyError(f"the body is not UTF-8 (byte {error.start})") from None
    found = depth(text)
    if found > MAX_DEPTH:
        raise BodyError(f"the body nests {found} deep; at most {MAX_DEPTH} levels are read")
    try:
        return json.loads(text, parse_int=_number(int), parse_float=_number(float),
                          parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise BodyError(f"the body is not JSON: {error.msg} at line {error.lineno} column "
                        f"{error.colno}") from None
    except RecursionError:  # unbalanced brackets inside what looked like strings
        raise BodyError(f"the body nests deeper than {MAX_DEPTH} levels") from None


def check_body() -> ResponseReturnValue | None:
    """A `before_request` hook: a JSON body (as webargs would read it) within the limits, else
    422. The schema then reads the same cached bytes."""
    if not request.is_json or request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return None
    try:
        data = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH: 413
    except OSError:  # the client stopped sending for CHANNEL_READ_TIMEOUT
        return errors.body(408, "the body did not arrive in time")
    if not data:
        return None
    try:
        parse(data)
    except BodyError as error:
        return errors.body(422, str(error), errors={error.field: [str(error)]})
    return None
