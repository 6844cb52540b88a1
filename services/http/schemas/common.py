"""What the resources' schemas share: text bounds, optional business dates, and answers that carry
values as the log records them, derived from the events' own wire schemas (infra.envelope)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from infra.envelope import Money
from services.http.fields import Amount, BusinessDate

REGIONS_TEXT = validate.Length(min=1, max=100)
NAME_TEXT = validate.Length(min=1, max=200)
NOTE_TEXT = validate.Length(max=2000)


def when(description: str) -> BusinessDate:
    """An optional business date; the server's business date when left out (RULES.md)."""
    return BusinessDate(
        load_default=None, metadata={"description": f"{description}; default: today"}
    )


def _answered(field: fields.Field, where: str) -> fields.Field:
    """How an answer presents a value of the recorded field's kind (money rounded to the cent,
    dates as business dates); the order matters, Money being a Decimal and a business date a Date."""
    kinds: tuple[tuple[type[fields.Field], type[fields.Field]], ...] = (
        (Money, Amount), (fields.Date, BusinessDate), (fields.Boolean, fields.Boolean),
        (fields.Integer, fields.Integer), (fields.String, fields.String),
    )
    for recorded, answered in kinds:
        if isinstance(field, recorded):
            return answered(allow_none=field.allow_none)
    raise TypeError(f"{where}: no answer field for a {type(field).__name__}")


def answer_schema(
    recorded: type[Schema], name: str, *, exclude: tuple[str, ...] = (), **declared: Any
) -> type[Schema]:
    """The schema of an answer carrying values shaped as the events record them (`recorded`, one
    of the envelope's schemas): the same fields in the same order, each as an answer presents
    its kind, none required. `declared` replaces a field (a description, a null the read model
    gives) or adds one; `exclude` leaves out what the answer does not carry."""
    made: dict[str, fields.Field] = {}
    for field_name, field in recorded().fields.items():
        if field_name in declared:
            made[field_name] = declared.pop(field_name)
        elif field_name not in exclude:
            made[field_name] = _answered(field, f"{name}.{field_name}")
    return Schema.from_dict({**made, **declared}, name=name)


def format_field() -> fields.String:
    """`?format=`: a report's or slip's answer as JSON (default), CSV or xlsx (services/exports)."""
    return fields.String(
        validate=validate.OneOf(["json", "csv", "xlsx"]),
        metadata={"description": "json (default), csv (one table, or a zip of tables) or xlsx; "
                                 "overrides the Accept header"},
    )
