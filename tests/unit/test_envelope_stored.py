"""Envelopes written from stored states (infra/envelope/stored.py) against the codec: for every
event type, the message the relay writes straight from the stored state is, byte for byte, the one
the codec writes for the mapper's domain event; a state it is not sure of it leaves to the codec.
And the partition key read from the stored state is the one PartitionKeys gives the event."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.lines import VALUE_TYPES
from examples.ml_company import Demo
from infra.envelope import Codec, EventCatalog, EventType
from infra.envelope.base import BASE_FIELDS
from infra.envelope.stored import StoredEnvelopes
from infra.relay import PartitionKeys
from tests.builders import memory_app

UNCHECKED = Codec(checked=False)  # the relay's codec
APP = memory_app()
ENVELOPES = StoredEnvelopes(UNCHECKED, APP.mapper)
TYPES = EventCatalog.of_domain().types


def reference(notification: Notification, predecessor: int, key: str | None) -> bytes:
    """What the relay wrote before: the mapper's event, encoded by the codec."""
    event = APP.mapper.to_domain_event(notification)
    return UNCHECKED.encode(event, position=notification.id, predecessor=predecessor,
                            partitionkey=key)


def fast(notification: Notification, predecessor: int, key: str | None) -> bytes | None:
    kind = ENVELOPES.kind(notification.topic)
    stored = ENVELOPES.read(kind, notification.originator_id, notification.state)
    if stored is None:
        return None
    head = ENVELOPES.head(kind, notification.id, notification.originator_id,
                          notification.originator_version, stored)
    return ENVELOPES.finish(head, predecessor, key)


def check(notification: Notification, predecessor: int = 0, key: str | None = None) -> bool:
    """The fast path's message is the codec's, or it has none; whether it had one."""
    written = fast(notification, predecessor, key)
    if written is not None:
        assert written == reference(notification, predecessor, key), notification.topic
    return written is not None


def stored(event: Any, position: int = 7) -> Notification:
    record = APP.mapper.to_stored_event(event)
    return Notification(id=position, originator_id=record.originator_id,
                        originator_version=record.originator_version, topic=record.topic,
                        state=record.state)


@pytest.fixture(scope="module")
def demo_app() -> Any:
    app = memory_app()
    Demo(app, say=lambda _: None).run()
    return app


@pytest.fixture(scope="module")
def demo(demo_app: Any) -> list[Notification]:
    return list(demo_app.recorder.select_notifications(start=1, limit=100_000))


def test_every_event_of_the_demo_is_written_from_its_state_as_the_codec_writes_it(
    demo: list[Notification],
) -> None:
    written = {n.topic for n in demo if check(n, n.id - 1, "a dealer \"ü\"")}
    assert written == {n.topic for n in demo}, "none of the demo's events goes to the mapper"
    assert len(written) > 20


# --- generated events of every type ---------------------------------------------------------

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


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_EVENT, st.integers(min_value=0, max_value=2**40), TEXT | st.none())
def test_any_event_of_any_type_is_written_from_its_state_as_the_codec_writes_it(
    event: Any, predecessor: int, key: str | None,
) -> None:
    notification = stored(event, position=predecessor + 1)
    try:
        expected: bytes | type[Exception] = reference(notification, predecessor, key)
    except Exception as e:  # e.g. a float the schema will not write: the codec's own answer
        expected = type(e)
    written = fast(notification, predecessor, key)
    if written is not None:
        assert written == expected, type(event).__qualname__


def test_money_with_cents_dates_and_times_with_microseconds_are_written_fast() -> None:
    """What the store holds goes the fast way (no fallback for the common forms)."""
    from domain.order import Order

    made = object.__new__(Order.PaymentRecorded)
    object.__setattr__(made, "__dict__", {
        "originator_id": UUID(int=5), "originator_version": 3,
        "timestamp": datetime(2026, 4, 1, 9, 30, 15, 123456, tzinfo=UTC),
        "paid_on": date(2026, 4, 2), "amount": Decimal("1050.00")})
    assert check(stored(made), 3, "d")


# --- altered states ---------------------------------------------------------------------------

ODD_LEAVES = [b'{"_type_":"decimal_str","_data_":"1E+2"}', b'{"_type_":"decimal_str","_data_":"007"}',
              b'{"_type_":"decimal_str","_data_":" 1"}', b'{"_type_":"decimal_str","_data_":1}',
              b'{"_type_":"date_iso","_data_":"20260401"}', b'{"_type_":"unknown","_data_":"x"}',
              b'{"_type_":"datetime_iso","_data_":"2026-04-01T10:00:00.000000+00:00"}',
              b'{"_type_":"datetime_iso","_data_":"2026-04-01T10:00:00-00:00"}',
              b'{"_type_":"uuid_hex","_data_":"0f4c9a7e3d1b4c2e9a551b2c3d4e5f60"}',
              b"1.5", b"1e5", b"NaN", b"-0", b'"x"', b"null", b"true", b"[]", b"{}",
              b'{"_type_":"x"}', b'{"a":1.0}', b'[1,2.5]', b'"\\u00e9"', b'"\\/"', b'"\\u000a"',
              b'"a\\\\u00e9"', b'[-0]']


def _values(state: bytes) -> list[tuple[int, int]]:
    """Spans of the state from each transcoded value's start to the first `}` after it (a whole
    decimal, date or time; part of a typed value, which may leave no JSON at all)."""
    spans: list[tuple[int, int]] = []
    at = state.find(b'{"_type_":"', 1)
    while at >= 0:
        end = state.find(b"}", at) + 1
        spans.append((at, end))
        at = state.find(b'{"_type_":"', end)
    return spans


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_an_altered_state_is_written_as_the_codec_writes_it_or_left_to_the_codec(
    demo: list[Notification], data: st.DataObject,
) -> None:
    """A value replaced by another form (exponent, no microseconds, a float, an unknown
    transcoding...), the class version taken out or lowered, a name added: the fast path writes
    what the codec writes, or leaves the state to it."""
    notification = data.draw(st.sampled_from(demo))
    state = notification.state
    how = data.draw(st.sampled_from(["value", "class_version", "name"]))
    if how == "value" and _values(state):
        start, end = data.draw(st.sampled_from(_values(state)))
        state = state[:start] + data.draw(st.sampled_from(ODD_LEAVES)) + state[end:]
    elif how == "class_version":
        state = state.replace(b',"class_version":2}', data.draw(st.sampled_from(
            [b"}", b',"class_version":1}', b',"class_version":3}'])))
    else:
        name = data.draw(st.sampled_from([b'"timestamp"', b'"originator_id"', b'"class_version"',
                                          b'"extra"']))
        state = state[:-1] + b"," + name + b":1}"
    try:
        json.loads(state)
    except ValueError:
        return
    altered = Notification(id=notification.id, originator_id=notification.originator_id,
                           originator_version=notification.originator_version,
                           topic=notification.topic, state=state)
    try:
        expected: bytes | type[Exception] = reference(altered, 1, "k")
    except Exception as e:
        expected = type(e)
    written = fast(altered, 1, "k")
    if written is not None:
        assert written == expected


# --- the partition key from the stored state ----------------------------------------------------


def test_the_key_read_from_the_stored_state_is_the_one_of_the_mappers_event(
    demo_app: Any, demo: list[Notification],
) -> None:
    app = demo_app

    def first(aggregate_id: UUID) -> Any:
        return next(iter(app.events.get(aggregate_id, lte=1)), None)

    by_event, by_state = PartitionKeys(first), PartitionKeys(first)
    read = 0
    for n in demo:
        event = app.mapper.to_domain_event(n)
        kind = ENVELOPES.kind(n.topic)
        found = ENVELOPES.read(kind, n.originator_id, n.state)
        assert found is not None
        expected = by_event.key_for(event)
        assert by_state.key_of(kind.event_class, n.originator_id, found.fields,
                               app.mapper.to_domain_event, n) == expected, n.topic
        read += 1
    assert read > 100


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([t for t in TYPES if {"dealer_id", "pool"} & {
    f.name for f in dataclasses.fields(t.event_class)}]).flatmap(events))
def test_any_key_a_state_names_is_read_as_the_event_gives_it(event: Any) -> None:
    notification = stored(event)
    kind = ENVELOPES.kind(notification.topic)
    found = ENVELOPES.read(kind, notification.originator_id, notification.state)
    if found is None:
        return
    loaded = APP.mapper.to_domain_event(notification)
    no_store = PartitionKeys(lambda _: loaded)
    expected = PartitionKeys(lambda _: loaded).key_for(loaded)
    assert no_store.key_of(kind.event_class, notification.originator_id, found.fields,
                           lambda _: loaded, None) == expected


def test_no_event_class_has_an_attribute_named_like_a_key_field_beside_its_fields() -> None:
    """What lets the key be read from the stored fields (getattr would find a class's)."""
    for entry in TYPES:
        for name in ("dealer_id", "pool"):
            assert not hasattr(entry.event_class, name), (entry.name, name)
