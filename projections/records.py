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
        aggregate_id = event.originator_id
        text = _ID_TEXTS.get(aggregate_id)
        if text is None:
            if len(_ID_TEXTS) >= 4096:
                _ID_TEXTS.clear()
            text = _ID_TEXTS[aggregate_id] = str(aggregate_id)
        return _new_tuple(cls, (type(event).__qualname__, text, position, vars(event)))


# The text of the aggregate ids seen lately: an aggregate's events come close together in the log
# (an order's life cycle), and a UUID's text takes four times as long as finding it here.
_ID_TEXTS: dict[Any, str] = {}
_new_tuple = tuple.__new__  # the record without the named tuple's own __new__ (a Python call)


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
    scaled = (value if type(value) is Decimal else dec(value)).scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not a whole number of cents")
    return int(scaled)


def from_cents(value: Any) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-2)


def to_json(value: Any) -> str:
    return jsontext.dumps(value, sort_keys=True, compact=True)


def from_json(text: str | None) -> Any:
    return json.loads(text) if text else None
