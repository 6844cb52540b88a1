"""The neutral form in which the projection receives an event, whatever its source: the store's
notification log (domain events) or a Kafka message (JSON, money as strings)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from infra import jsontext


class EventRecord(NamedTuple):
    """`kind` is "<Aggregate>.<Event>" (e.g. "Order.Delivered"); `position` is the event's place
    in the store's log; `data` holds the event's fields (a domain event's own attributes, read
    only: the library's originator_id, originator_version and timestamp among them). A tuple:
    one is made for every event the read model applies."""

    kind: str
    aggregate_id: str
    position: int
    data: Mapping[str, Any]

    @classmethod
    def from_domain_event(cls, event: Any, position: int) -> EventRecord:
        return cls(type(event).__qualname__, str(event.originator_id), position, vars(event))


def dec(value: Any) -> Decimal:
    """A Decimal from a Decimal, an int or a decimal string (never a float)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("money arrives as a Decimal or a string, never a float")
    return Decimal(str(value))


def day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def cents(value: Any) -> int:
    """Money as whole cents; the figures stored this way are exact to the cent by construction."""
    scaled = dec(value).scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not a whole number of cents")
    return int(scaled)


def from_cents(value: Any) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-2)


def to_json(value: Any) -> str:
    return jsontext.dumps(value, sort_keys=True, compact=True)


def from_json(text: str | None) -> Any:
    return json.loads(text) if text else None
