"""Envelopes written from stored states (infra/envelope/stored.py) against the codec: for every
event type, the message the relay writes straight from the stored state is, byte for byte, the one
the codec writes for the mapper's domain event; a state it is not sure of it leaves to the codec.
And the partition key read from the stored state is the one PartitionKeys gives the event."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Notification
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples.ml_company import Demo
from infra.envelope import Codec
from infra.envelope.stored import StoredEnvelopes
from infra.relay import PartitionKeys
from tests.builders import memory_app
from tests.support.stored_events import ANY_EVENT, ODD_LEAVES, TEXT, TYPES, alter_state, events

UNCHECKED = Codec(checked=False)  # the relay's codec
APP = memory_app()
ENVELOPES = StoredEnvelopes(UNCHECKED, APP.mapper)


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

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_an_altered_state_is_written_as_the_codec_writes_it_or_left_to_the_codec(
    demo: list[Notification], data: st.DataObject,
) -> None:
    """A value replaced by another form (exponent, no microseconds, a float, an unknown
    transcoding...), the class version taken out or lowered, a name added: the fast path writes
    what the codec writes, or leaves the state to it."""
    notification = data.draw(st.sampled_from(demo))
    state = alter_state(data, notification.state, st.sampled_from(ODD_LEAVES))
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
