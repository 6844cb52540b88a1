"""The Kafka key and partition of each event (DESIGN: Kafka contract): the dealer it concerns, or
none for an event that concerns every dealer, which is broadcast to every partition."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from kafka.partitioner.default import murmur2

from domain.dealer import Dealer


def partition_for(key: str, partitions: int) -> int:
    """Kafka's default partitioner for a keyed record (murmur2, as the Java client)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def _key_of_creation(created: Any) -> str | None:
    """The dealer an aggregate belongs to, read from its creation event (None: all dealers)."""
    if isinstance(created, Dealer.Event):
        return str(created.originator_id)
    for name in ("dealer_id", "pool"):  # orders, credit lines, rebate slips; spare-parts pools
        value = getattr(created, name, None)
        if value is not None:
            return str(value)
    return None


class _Unsure(Exception):
    pass


_UNKNOWN: Any = object()


def _stored_value(fields: bytes, name: str) -> str | None:
    """`str(getattr(event, name))`, or None, of the event whose stored state has these fields,
    for a value stored as JSON text, a number, true or false (any other, such as a transcoded
    value: _Unsure). The events' classes have no attribute of these names beside their fields
    (tests/unit/test_envelope_keys.py)."""
    opening = f'"{name}":"'.encode()
    if fields.startswith(opening):  # the first field, as a creation names its dealer
        end = fields.find(b'"', len(opening))
        text = fields[len(opening):end]
        if b"\\" not in text:
            return text.decode()
    value = json.loads(b"{" + fields + b"}").get(name)
    if value is None or type(value) is str:
        return value
    if type(value) in (int, bool):
        return str(value)
    raise _Unsure


class PartitionKeys:
    """The Kafka key of each event: the dealer it concerns, or None for an event that concerns
    every dealer (price list, accounting calendar, the roster's opening), which is broadcast.

    A later event of an order (or credit line, pool, slip) does not name its dealer: the key comes
    from the aggregate's creation event, remembered here or read back from the store."""

    def __init__(self, load_first: Callable[[UUID], Any], capacity: int = 100_000) -> None:
        self._load_first = load_first
        self._capacity = capacity
        self._keys: OrderedDict[UUID, str | None] = OrderedDict()
        self._classes: dict[type, tuple[bool, bool]] = {}  # (a dealer's event, a creation)

    def key_of(self, event_class: type, aggregate_id: Any, fields: bytes,
               event: Callable[[Any], Any], source: Any) -> str | None:
        """`key_for(event(source))` of an event whose stored state has these `fields` (its text
        after the timestamp: `"name":value,...`), building the event only when the state does
        not tell (see `_stored_value`) or the aggregate's key is not known."""
        kinds = self._classes.get(event_class)
        if kinds is None:
            kinds = self._classes[event_class] = (issubclass(event_class, Dealer.Event),
                                                  issubclass(event_class, Aggregate.Created))
        if kinds[0]:
            return str(aggregate_id)
        try:
            if kinds[1]:
                key = _stored_value(fields, "dealer_id")
                if key is None:
                    key = _stored_value(fields, "pool")
                key = self._remember(aggregate_id, key)
            else:
                key = self._keys.get(aggregate_id, _UNKNOWN)
                if key is _UNKNOWN:
                    return self.key_for(event(source))
                self._keys.move_to_end(aggregate_id)
            return _stored_value(fields, "dealer_id") if key is None else key
        except _Unsure:
            return self.key_for(event(source))

    def key_for(self, event: Any) -> str | None:
        if isinstance(event, Dealer.Event):
            return str(event.originator_id)
        aggregate_id: UUID = event.originator_id
        if isinstance(event, Aggregate.Created):
            key = self._remember(aggregate_id, _key_of_creation(event))
        elif aggregate_id in self._keys:
            self._keys.move_to_end(aggregate_id)
            key = self._keys[aggregate_id]
        else:
            key = self._remember(aggregate_id, _key_of_creation(self._load_first(aggregate_id)))
        if key is None:  # the roster's seat and repair-centre events name their dealer
            named = getattr(event, "dealer_id", None)
            return None if named is None else str(named)
        return key

    def _remember(self, aggregate_id: UUID, key: str | None) -> str | None:
        self._keys[aggregate_id] = key
        if len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
        return key
