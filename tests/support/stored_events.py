"""Stored events for the tests that read states as the library's mapper does (the relay's
envelopes written from stored states, the read side's mapper): events of every type of the
catalogue with generated field values, and altered stored forms of their values."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from hypothesis import strategies as st

from domain.lines import VALUE_TYPES
from infra.envelope import EventCatalog, EventType
from infra.envelope.base import BASE_FIELDS

TYPES = EventCatalog.of_domain().types

TEXT = st.text(max_size=12) | st.sampled_from(
    ['{"_type_":"decimal_str","_data_":"1"}', '"}', "\\", '],"total":', "é\u2028\x00", "%s"])
DECIMALS = (st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9,
                        max_value=10**9)
            | st.decimals(allow_nan=False, allow_infinity=False)  # any exponent
            | st.sampled_from([Decimal("0.0000001"), Decimal("0E-9"), Decimal("-0"),
                               Decimal("1E+3"), Decimal("0.000001"), Decimal("120.50")]))
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(
    hours=3)), None])
TIMES = st.builds(lambda d, z: d.replace(tzinfo=z),
                  st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
                  ZONES)
PLAIN = st.recursive(st.none() | st.booleans() | st.integers() | TEXT | DECIMALS | st.dates()
                     | st.floats(allow_nan=False),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)


def strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a field's type hint (Any: JSON-ish values, floats and decimals included)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[strategy(a) for a in args])
    if origin is list:
        return st.lists(strategy(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(strategy(args[0]), strategy(args[1]), max_size=3)
    simple = {str: TEXT, int: st.integers(), bool: st.booleans(), Decimal: DECIMALS,
              date: st.dates(), datetime: TIMES, type(None): st.none()}
    if hint in simple:
        return simple[hint]
    if hint in VALUE_TYPES:
        hints = typing.get_type_hints(hint)
        return st.builds(hint, **{f.name: strategy(hints[f.name])
                                  for f in dataclasses.fields(hint)})
    return PLAIN


def events(entry: EventType) -> st.SearchStrategy[Any]:
    cls = entry.event_class
    hints = typing.get_type_hints(cls)
    fields = {f.name: strategy(hints[f.name]) for f in dataclasses.fields(cls)
              if f.name not in BASE_FIELDS}

    def make(values: dict[str, Any], aggregate: UUID, version: int, at: datetime) -> Any:
        state = {"originator_id": aggregate, "originator_version": version, "timestamp": at}
        if issubclass(cls, Aggregate.Created):
            state["originator_topic"] = get_topic(entry.aggregate_class)
        made = object.__new__(cls)
        object.__setattr__(made, "__dict__", {**state, **values})
        return made

    return st.builds(make, st.fixed_dictionaries(fields), st.uuids(),
                     st.integers(min_value=1, max_value=2**40), TIMES)


ANY_EVENT = st.sampled_from(TYPES).flatmap(events)


ODD_LEAVES = [b'{"_type_":"decimal_str","_data_":"1E+2"}', b'{"_type_":"decimal_str","_data_":"007"}',
              b'{"_type_":"decimal_str","_data_":" 1"}', b'{"_type_":"decimal_str","_data_":1}',
              b'{"_type_":"date_iso","_data_":"20260401"}', b'{"_type_":"unknown","_data_":"x"}',
              b'{"_type_":"datetime_iso","_data_":"2026-04-01T10:00:00.000000+00:00"}',
              b'{"_type_":"datetime_iso","_data_":"2026-04-01T10:00:00-00:00"}',
              b'{"_type_":"uuid_hex","_data_":"0f4c9a7e3d1b4c2e9a551b2c3d4e5f60"}',
              b"1.5", b"1e5", b"NaN", b"-0", b'"x"', b"null", b"true", b"[]", b"{}",
              b'{"_type_":"x"}', b'{"a":1.0}', b'[1,2.5]', b'"\\u00e9"', b'"\\/"', b'"\\u000a"',
              b'"a\\\\u00e9"', b'[-0]']


def stored_values(state: bytes) -> list[tuple[int, int]]:
    """Spans of the state from each transcoded value's start to the first `}` after it (a whole
    decimal, date or time; part of a typed value, which may leave no JSON at all)."""
    spans: list[tuple[int, int]] = []
    at = state.find(b'{"_type_":"', 1)
    while at >= 0:
        end = state.find(b"}", at) + 1
        spans.append((at, end))
        at = state.find(b'{"_type_":"', end)
    return spans


ONE = st.just(b"1")


def alter_state(data: st.DataObject, state: bytes, odd: st.SearchStrategy[bytes], *,
            names: list[str] | None = None,
            added: st.SearchStrategy[bytes] = ONE) -> bytes:
    """`state` with one change drawn by `data`: a stored value replaced by one of `odd`, a value
    named another transcoding of `names` (when given), the class version taken out, lowered or
    raised, or a name added with a value of `added`."""
    how = data.draw(st.sampled_from(["value", "class_version", "name", *(["retyped"] if names
                                                                          else [])]))
    if how == "value" and stored_values(state):
        start, end = data.draw(st.sampled_from(stored_values(state)))
        return state[:start] + data.draw(odd) + state[end:]
    if how == "retyped" and names:
        found = [n for n in names if f'"_type_":"{n}"'.encode() in state]
        if found:
            return state.replace(f'"_type_":"{data.draw(st.sampled_from(found))}"'.encode(),
                                 f'"_type_":"{data.draw(st.sampled_from(names))}"'.encode(), 1)
        return state
    if how == "class_version":
        return state.replace(b',"class_version":2}', data.draw(st.sampled_from(
            [b"}", b',"class_version":1}', b',"class_version":3}'])))
    if how == "name":
        name = data.draw(st.sampled_from([b'"timestamp"', b'"originator_id"', b'"class_version"',
                                          b'"extra"']))
        return state[:-1] + b"," + name + b":" + data.draw(added) + b"}"
    return state
