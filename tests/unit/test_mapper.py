"""The read side's mapper (infra/mapper.py) against the library's: for every event type, generated
and altered states, the event it decodes is the library's own — the same class, the same
attributes in the same order, each of the same type and value — or, where the library refuses a
state, it refuses it too. The demo's events are all decoded without the library's help."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import Mapper, Notification
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples.ml_company import Demo
from infra.mapper import OrjsonMapper
from projections.projection import LogReader
from tests.builders import memory_app
from tests.support.stored_events import ANY_EVENT, ODD_LEAVES, alter_state

APP = memory_app()
LIBRARY: Mapper[Any] = APP.mapper
FAST = OrjsonMapper.of(APP.mapper)
# Stored values replaced by other forms, the names of the transcodings, values of a name added.
ODD = st.sampled_from([*ODD_LEAVES, b"18446744073709551616", b"1e400", b'"\\ud800"',
                      b'[{"_type_":"decimal_str","_data_":"1"},2.5]',
                      b'{"_type_":"date_iso","_data_":"2026-04-01","x":1}',
                      b'{"_type_":"decimal_str"}', b'{"_data_":"1","other":2}',
                      b'{"_type_":["x"],"_data_":"1"}', b'{"_type_":"order_line","_data_":1}'])
NAMES = sorted(LIBRARY.transcoder.names)  # type: ignore[attr-defined]
ADDED = st.sampled_from([b"1", b"1.5", b'{"_type_":"decimal_str","_data_":"2"}', b"[[],{}]",
                         b"null"])


def strict(value: Any) -> Any:
    """A value as compared here: its type with it, all the way down (Decimal("1.0") is not
    Decimal("1.00"), a date is not a datetime)."""
    if isinstance(value, dict):
        return ("dict", [(k, strict(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [strict(v) for v in value])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value), strict(vars(value)))  # its attributes, in their order
    return (type(value), repr(value))


def decoded(mapper: Mapper[Any], notification: Notification) -> Any:
    """The event's class and its attributes as `strict` sees them, or the error's class."""
    try:
        event = mapper.to_domain_event(notification)
    except Exception as e:
        return type(e)
    return type(event), strict(vars(event))


def stored(event: Any, position: int = 7) -> Notification:
    record = LIBRARY.to_stored_event(event)
    return Notification(id=position, originator_id=record.originator_id,
                        originator_version=record.originator_version, topic=record.topic,
                        state=record.state)


@pytest.fixture(scope="module")
def demo() -> list[Notification]:
    app = memory_app()
    Demo(app, say=lambda _: None).run()
    return list(app.recorder.select_notifications(start=1, limit=100_000))


def test_every_event_of_the_demo_is_the_librarys_decoded_without_its_help(
    demo: list[Notification], monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = [decoded(LIBRARY, n) for n in demo]

    def refused(self: Any, stored_event: Any) -> Any:
        raise AssertionError(f"{stored_event.topic} went to the library's decoding")

    monkeypatch.setattr(Mapper, "to_domain_event", refused)
    assert [decoded(FAST, n) for n in demo] == expected
    assert len({n.topic for n in demo}) > 20


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_EVENT)
def test_any_event_of_any_type_is_decoded_as_the_library_decodes_it(event: Any) -> None:
    try:
        notification = stored(event)
    except Exception:  # a value the library cannot store (a float NaN…): nothing to read
        return
    assert decoded(FAST, notification) == decoded(LIBRARY, notification)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_an_altered_state_is_decoded_as_the_library_decodes_it_or_refused_alike(
    demo: list[Notification], data: st.DataObject,
) -> None:
    """A value replaced by another form (a float, an integer beyond 64 bits, an unknown
    transcoding, a list where a value was…) or named another transcoding's, the class version
    taken out or lowered (the upcast), a name added: the same event, or the same refusal."""
    notification = data.draw(st.sampled_from(demo))
    state = alter_state(data, notification.state, ODD, names=NAMES, added=ADDED)
    changed = Notification(id=notification.id, originator_id=notification.originator_id,
                           originator_version=notification.originator_version,
                           topic=notification.topic, state=state)
    assert decoded(FAST, changed) == decoded(LIBRARY, changed)


@pytest.mark.parametrize("change", ["drop", "add", "reorder", "retype"])
def test_a_typed_value_with_other_fields_is_decoded_as_the_library_decodes_it(
    demo: list[Notification], change: str,
) -> None:
    """A typed value (an order line, a forecast month…) stored with a field missing, one more,
    its fields in another order, or named another typed value: the library's event or refusal."""
    kinds = {"order_line", "return_line", "forecast_month", "disputed_line"}
    checked = 0
    for notification in demo:
        state = orjson.loads(notification.state)
        found = [v for v in state.values() if isinstance(v, list) and v
                 and isinstance(v[0], dict) and v[0].get("_type_") in kinds]
        if not found:
            continue
        data = found[0][0]["_data_"]
        if change == "drop":
            data.pop(next(iter(data)))
        elif change == "add":
            data["extra"] = 1
        elif change == "reorder":
            found[0][0]["_data_"] = dict(reversed(list(data.items())))
        else:
            found[0][0]["_type_"] = sorted(kinds - {found[0][0]["_type_"]})[checked % 3]
        changed = Notification(id=notification.id, originator_id=notification.originator_id,
                               originator_version=notification.originator_version,
                               topic=notification.topic, state=orjson.dumps(state))
        assert decoded(FAST, changed) == decoded(LIBRARY, changed), notification.topic
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("state", [b"[]", b"1", b'{"_type_":"decimal_str","_data_":"1"}',
                                   b"NaN", b"{", "é".encode("latin-1"), b'{"a":NaN}'])
def test_a_state_that_is_no_event_is_refused_as_the_library_refuses_it(state: bytes) -> None:
    notification = Notification(id=1, originator_id=APP.mapper.to_domain_event(
        next(iter(APP.recorder.select_notifications(start=1, limit=1)))).originator_id,
        originator_version=1, topic="domain.order:Order.Confirmed", state=state)
    assert decoded(FAST, notification) == decoded(LIBRARY, notification)


def test_the_live_feed_and_the_catch_up_decode_with_it() -> None:
    reader = LogReader(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                            "SQLITE_DBNAME": ":memory:"})
    assert isinstance(reader.mapper, OrjsonMapper)
    assert OrjsonMapper.of(APP.mapper) is FAST  # one per write-side mapper
