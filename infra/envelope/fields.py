"""The envelope's marshmallow fields (also used by the HTTP edge) and the field a type hint of an
event field gives."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

from marshmallow import Schema, ValidationError, fields, post_load

from domain.lines import VALUE_TYPES
from infra.envelope.base import MissingSchemaError

# Money as a request writes it (the HTTP edge and the policy terms a new version states): ASCII
# digits ([0-9], not \d, which also takes full-width and Arabic-Indic digits), at most twelve
# before the point (domain.limits.MAX_MONEY) and two after it.
MONEY_IN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
SIGNED_MONEY_IN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"
# MONEY_IN above zero, without lookahead (which not every pattern engine has): the first digit
# that is not 0 comes after k zeros of the twelve places, or else the cents are not all zero.
POSITIVE_MONEY_IN = (
    "^(("
    + "|".join(("0" * k) + "[1-9]" + (f"[0-9]{{0,{11 - k}}}" if k < 11 else "") for k in range(12))
    + r")(\.[0-9]{1,2})?|0{1,12}\.(0[1-9]|[1-9][0-9]?))$"
)
NONZERO_MONEY_IN = "^-?" + POSITIVE_MONEY_IN[1:]  # SIGNED_MONEY_IN but 0


class Money(fields.Decimal):
    """A decimal string, never a JSON number (floats would lose cents)."""

    # A message by key, so that the HTTP edge, which uses these fields too, words it its own way.
    default_error_messages = {"not_text": "Money is a decimal string, e.g. \"12000.00\"."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("not_text")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """true or false, not "yes" or 1."""

    default_error_messages = {"invalid": "Not a boolean."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictString(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError("Not a string.")
        return super()._deserialize(value, attr, data, **kwargs)


def required_string() -> fields.Field:
    return StrictString(required=True)


DECIMAL_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"


class DecimalText(StrictString):
    """A decimal kept as its text (the policy's canonical form): "0.020" stays "0.020". `pattern`
    narrows it (a rate from 0 to 1, an amount), and is what the OpenAPI document states."""

    def __init__(self, *, pattern: str = DECIMAL_TEXT, explained: str = "a decimal string",
                 **kwargs: Any) -> None:
        self.pattern = re.compile(pattern)
        self.explained = explained
        metadata = {"pattern": pattern, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.pattern.fullmatch(text):
            raise ValidationError(f"Not {self.explained}.")
        return text


def field_for(hint: Any, where: str) -> fields.Field:
    """A marshmallow field for a type hint of an event field (required; None only if Optional)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        others = [a for a in args if a is not type(None)]
        if len(others) == 1 and len(args) == 2:
            inner = field_for(others[0], where)
            inner.allow_none = True
            return inner
        raise MissingSchemaError(f"{where}: cannot decode the union {hint}")
    simple: dict[Any, Any] = {
        str: lambda: StrictString(required=True),
        bool: lambda: StrictBoolean(required=True),
        int: lambda: fields.Integer(strict=True, required=True),
        Decimal: lambda: Money(required=True),
        date: lambda: fields.Date(required=True),
        datetime: lambda: fields.AwareDateTime(required=True),
        UUID: lambda: fields.UUID(required=True),
    }
    if hint in simple:
        return simple[hint]()
    if hint in VALUE_TYPES:
        return fields.Nested(value_schema(hint), required=True)
    if origin is list and len(args) == 1:
        return fields.List(field_for(args[0], f"{where}[]"), required=True)
    if origin is dict and len(args) == 2 and args[0] is str:
        return fields.Dict(keys=StrictString(), values=field_for(args[1], f"{where}{{}}"),
                           required=True)
    raise MissingSchemaError(
        f"{where}: the hint {hint} does not say how to decode the value; add an explicit "
        "schema to infra.envelope.NESTED"
    )


@cache
def value_schema(cls: type) -> type[Schema]:
    """The wire schema of a typed value of domain/lines.py, derived from its fields' hints: it
    writes the value as an object of its fields and loads it back as the value."""
    hints = typing.get_type_hints(cls)
    declared: dict[str, Any] = {
        f.name: field_for(hints[f.name], f"{cls.__name__}.{f.name}") for f in dataclass_fields(cls)
    }

    def load(self: Schema, data: dict[str, Any], **_: Any) -> Any:
        return cls(**data)

    declared["load_value"] = post_load(load)
    schema: type[Schema] = type(f"{cls.__name__}Schema", (Schema,), declared)
    _VALUE_SCHEMAS[schema] = cls
    return schema


_VALUE_SCHEMAS: dict[type, type] = {}


def value_class(schema: type) -> type | None:
    """The typed value a schema of `value_schema` loads, or None for any other schema."""
    return _VALUE_SCHEMAS.get(schema)
