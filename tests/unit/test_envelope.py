"""The CloudEvents envelope of the Kafka contract: every event type has a schema, every event
survives the envelope as the very object the mapper gives, and a bad message is refused naming
the field."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.dealer import Dealer
from domain.order import Order
from examples.ml_company import Demo
from infra.envelope import (
    Codec,
    EnvelopeError,
    EventCatalog,
    MissingSchemaError,
    event_id,
)
from tests.builders import memory_app

CODEC = Codec()


@pytest.fixture(scope="module")
def demo_events() -> list[tuple[Any, int]]:
    """Every event of the demo scenario as the application's mapper gives it, with its position."""
    app = memory_app()
    Demo(app, say=lambda _: None).run()
    notifications = app.recorder.select_notifications(start=1, limit=100_000)
    return [(app.mapper.to_domain_event(n), n.id) for n in notifications]


def first(events: list[tuple[Any, int]], cls: type) -> tuple[Any, int]:
    return next((e, p) for e, p in events if type(e) is cls)


def document(event: Any, position: int, **kwargs: Any) -> dict[str, Any]:
    return json.loads(CODEC.encode(event, position=position, **kwargs))


def test_every_event_class_of_the_domain_has_a_cloudevents_type_and_a_data_schema() -> None:
    catalog = EventCatalog.of_domain()
    names = [t.name for t in catalog.types]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"channel\.[a-z_]+\.[A-Z][A-Za-z]+\.v\d+", n) for n in names), names
    for aggregate in {t.aggregate_class for t in catalog.types}:
        stored = {
            v for v in vars(aggregate).values()
            if isinstance(v, type) and issubclass(v, aggregate.Event)
            and v.__name__ not in ("Event", "Created")
        }
        assert stored <= {t.event_class for t in catalog.types}, aggregate


def test_the_type_names_the_aggregate_the_event_and_its_class_version(
    demo_events: list[tuple[Any, int]],
) -> None:
    delivered, position = first(demo_events, Order.Delivered)
    assert document(delivered, position)["type"] == "channel.order.Delivered.v1"


def test_every_event_of_the_demo_comes_back_as_the_mappers_event(
    demo_events: list[tuple[Any, int]],
) -> None:
    kinds = set()
    for event_, position in demo_events:
        back = CODEC.decode(CODEC.encode(event_, position=position, predecessor=position - 1,
                                         partitionkey="dealer")).to_event()
        assert type(back) is type(event_)
        assert vars(back) == vars(event_)
        kinds.add(type(event_).__qualname__)
    # The scenario covers the nested values: order lines, returns, price items, credit details.
    assert {"Order.Placed", "Order.Returned", "PriceList.VersionPublished",
            "CreditLine.Evaluated", "Dealer.ForecastSubmitted"} <= kinds


def test_the_envelope_holds_the_cloudevents_attributes_money_as_strings_and_iso_dates(
    demo_events: list[tuple[Any, int]],
) -> None:
    placed, position = first(demo_events, Order.Placed)
    doc = document(placed, position, predecessor=3, partitionkey=placed.dealer_id)
    assert doc["specversion"] == "1.0"
    assert doc["datacontenttype"] == "application/json"
    assert doc["subject"] == str(placed.originator_id)
    assert doc["position"] == position and doc["aggregateversion"] == 1
    assert doc["predecessor"] == 3 and doc["partitionkey"] == placed.dealer_id
    assert datetime.fromisoformat(doc["time"]) == placed.timestamp
    assert doc["data"]["total"] == str(placed.total)
    assert doc["data"]["order_date"] == placed.order_date.isoformat()
    assert all(isinstance(line["unit_price"], str) for line in doc["data"]["lines"])
    assert "originator_topic" not in doc["data"]


def test_a_republished_event_carries_the_same_id_and_other_events_others(
    demo_events: list[tuple[Any, int]],
) -> None:
    event_, position = demo_events[5]
    one = document(event_, position, predecessor=0)
    again = document(event_, position, predecessor=position - 1, partitionkey="x")
    assert one["id"] == again["id"] == event_id(event_.originator_id, event_.originator_version)
    ids = {document(e, p)["id"] for e, p in demo_events}
    assert len(ids) == len(demo_events)


def test_an_event_for_all_dealers_has_no_partition_key(demo_events: list[tuple[Any, int]]) -> None:
    event_, position = demo_events[0]
    assert "partitionkey" not in document(event_, position)
    assert CODEC.decode(CODEC.encode(event_, position=position)).broadcast


def _valid(demo_events: list[tuple[Any, int]]) -> dict[str, Any]:
    placed, position = first(demo_events, Order.Placed)
    return document(placed, position, predecessor=1, partitionkey=placed.dealer_id)


BREAKAGES: list[tuple[str, Any, str]] = [
    ("no specversion", lambda d: d.pop("specversion"), "specversion"),
    ("another specversion", lambda d: d.update(specversion="0.3"), "specversion"),
    ("an unknown type", lambda d: d.update(type="channel.order.Teleported.v1"), "type"),
    ("a float for money", lambda d: d["data"].update(total=12.5), "data"),
    ("a bad date", lambda d: d["data"].update(order_date="2026-13-40"), "data"),
    ("a missing field", lambda d: d["data"].pop("client_ref"), "data"),
    ("an unknown field", lambda d: d["data"].update(colour="red"), "data"),
    ("a bad line", lambda d: d["data"]["lines"][0].update(qty="two"), "data"),
    ("an id of another event", lambda d: d.update(id=str(uuid4())), "id"),
    ("position 0", lambda d: d.update(position=0), "position"),
    ("a predecessor after it", lambda d: d.update(predecessor=d["position"]), "predecessor"),
    ("a naive time", lambda d: d.update(time="2026-04-01T10:00:00"), "time"),
]


@pytest.mark.parametrize(("what", "breaks", "field"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_a_message_that_fails_the_schema_is_refused_naming_the_field(
    demo_events: list[tuple[Any, int]], what: str, breaks: Any, field: str
) -> None:
    doc = _valid(demo_events)
    breaks(doc)
    with pytest.raises(EnvelopeError) as refused:
        CODEC.decode(json.dumps(doc))
    assert field in refused.value.errors, refused.value.errors


@pytest.mark.parametrize("value", [b"", b"not json", b"[1, 2]", b"\xff\xfe", None])
def test_a_message_that_is_no_json_object_is_refused(value: bytes | None) -> None:
    with pytest.raises(EnvelopeError):
        CODEC.decode(value)


def test_a_nested_value_its_schema_does_not_know_is_refused_before_it_leaves(
    demo_events: list[tuple[Any, int]],
) -> None:
    returned, position = first(demo_events, Order.Returned)
    state = dict(vars(returned))
    state["lines"] = [dict(vars(state["lines"][0]), colour="red")]
    altered = object.__new__(Order.Returned)
    object.__setattr__(altered, "__dict__", state)
    with pytest.raises(EnvelopeError, match="does not survive the envelope"):
        CODEC.encode(altered, position=position)


def test_an_event_field_whose_hint_says_nothing_needs_an_explicit_schema() -> None:
    class Ledger(Aggregate):
        @event("Noted")
        def note(self, entries: list[dict[str, Any]]) -> None:
            pass

    with pytest.raises(MissingSchemaError, match=r"Ledger\.Noted\.entries"):
        EventCatalog([Ledger])


AMOUNTS = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2,
                      allow_nan=False, allow_infinity=False)
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
TEXT = st.text(max_size=40)


def _event(cls: type, aggregate_id: UUID, version: int, **fields: Any) -> Any:
    state = {"originator_id": aggregate_id, "originator_version": version,
             "timestamp": datetime(2026, 4, 1, 9, 30, 15, 123456, tzinfo=UTC), **fields}
    if issubclass(cls, Aggregate.Created):
        state["originator_topic"] = f"{cls.__module__}:{cls.__qualname__.split('.')[0]}"
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", state)
    return made


@settings(max_examples=60, deadline=None)
@given(amount=AMOUNTS, paid_on=DAYS, version=st.integers(min_value=2, max_value=10**6),
       position=st.integers(min_value=1, max_value=2**53))
def test_money_and_dates_survive_the_envelope_exactly(
    amount: Decimal, paid_on: date, version: int, position: int
) -> None:
    paid = _event(Order.PaymentRecorded, uuid4(), version, paid_on=paid_on, amount=amount)
    doc = json.loads(CODEC.encode(paid, position=position, predecessor=position - 1))
    assert doc["data"]["amount"] == format(amount, "f")
    back = CODEC.decode(json.dumps(doc)).to_event()
    assert vars(back) == vars(paid)
    assert str(back.amount) == str(amount)  # the same digits, not only the same value


@settings(max_examples=40, deadline=None)
@given(name=TEXT, region=TEXT, salesperson=TEXT, contact=TEXT, on=DAYS,
       tier=st.sampled_from(["A", "AA", "SI", "END"]))
def test_any_text_survives_the_envelope(
    name: str, region: str, salesperson: str, contact: str, on: date, tier: str
) -> None:
    registered = _event(Dealer.Registered, uuid4(), 1, name=name, region=region, tier=tier,
                        salesperson=salesperson, contact=contact, registered_on=on)
    back = CODEC.decode(CODEC.encode(registered, position=1, partitionkey="d")).to_event()
    assert vars(back) == vars(registered)


# R5: slip lines as closes before and after lines carried figures only wrote them.
OLD_LINE = {"line": 1, "kind": "quarterly", "period": "2026-Q2", "basis": Decimal("90000.00"),
            "rate": Decimal("0"), "amount": Decimal("0.00"), "policy_version": "2026.1",
            "tier": "SI", "threshold": None, "reached": False, "rule": "R3",
            "why": "net sales 90000.00 stay below the lowest tier-SI threshold 200000"}
OLD_CORRECTION = {"line": 2, "kind": "correction", "period": "2026-06", "basis": None,
                  "rate": None, "amount": Decimal("120.50"), "policy_version": "2026.1",
                  "tier": None, "threshold": None, "reached": None, "rule": "R6",
                  "why": "A0 counted", "slip_id": str(uuid4()), "dispute": 1}
NEW_LINE = {**{k: v for k, v in OLD_LINE.items() if k != "why"},
            "next_threshold": Decimal("200000"), "next_rate": Decimal("0.010")}
NEW_CORRECTION = {**{k: v for k, v in OLD_CORRECTION.items() if k != "why"},
                  "note": "A0 counted"}


@pytest.mark.parametrize(("lines", "why"), [([OLD_LINE, OLD_CORRECTION], True),
                                            ([NEW_LINE, NEW_CORRECTION], False)],
                         ids=["older slip with why", "slip of figures only"])
def test_r5_a_slip_decodes_from_the_envelope_exactly_as_the_store_gives_it_with_or_without_why(
    lines: list[dict[str, Any]], why: bool
) -> None:
    app = memory_app()
    done = app.issue_slips("2026-06", date(2026, 7, 1), 1,
                           [{"dealer_id": str(uuid4()), "lines": [dict(x) for x in lines]}])
    assert done.position is not None
    (notification,) = app.recorder.select_notifications(start=done.position, limit=1)
    stored = app.mapper.to_domain_event(notification)
    back = CODEC.decode(CODEC.encode(stored, position=done.position)).to_event()
    assert vars(back) == vars(stored)
    assert all(("why" in line) is why for line in back.lines)


def test_the_relays_unchecked_envelopes_are_the_checked_ones_for_every_event_of_the_demo(
    demo_events: list[tuple[Any, int]],
) -> None:
    """The relay encodes without the schema's dump and without decoding again (issue 12): for
    every event the demo stores, its envelope is the one the checked codec writes and decodes."""
    unchecked = Codec(checked=False)
    for event_, position in demo_events:
        fast = json.loads(unchecked.encode(event_, position=position, predecessor=position - 1,
                                           partitionkey="k"))
        checked = json.loads(CODEC.encode(event_, position=position, predecessor=position - 1,
                                          partitionkey="k"))
        assert fast == checked, type(event_).__qualname__
    kinds = {type(e) for e, _ in demo_events}
    assert len(kinds) > 20, "the demo stores many event types"


@given(st.uuids(), st.integers(min_value=1, max_value=2**40))
def test_an_event_id_is_the_uuid5_of_its_subject_and_version(subject: Any, version: int) -> None:
    from infra.envelope.base import slow_event_id

    assert event_id(subject, version) == slow_event_id(subject, version)
    assert event_id(str(subject), version) == slow_event_id(str(subject), version)
