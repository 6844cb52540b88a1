"""The typed values events carry (domain/lines.py): stored through their transcodings, upcast
from the plain objects events held before them, on the wire exactly as before, and a requested
line checked once, naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from domain.dealer import Dealer
from domain.errors import InvalidInputError
from domain.lines import (
    VALUE_TYPES,
    DisputedLine,
    ForecastMonth,
    OrderLine,
    RequestedLine,
    ReturnLine,
)
from domain.order import Order
from domain.rebate_slip import RebateSlip
from examples.ml_company import Demo
from infra.envelope import Codec
from infra.settings import Settings
from services.bootstrap import build_runtime
from tests.builders import POLICY, memory_app

CODEC = Codec()
UNCHECKED = Codec(checked=False)
TYPED = {
    Order.Placed: ("lines", OrderLine),
    Order.Returned: ("lines", ReturnLine),
    Dealer.ForecastSubmitted: ("months", ForecastMonth),
    RebateSlip.Disputed: ("lines", DisputedLine),
}

# The names the values are stored under: renaming a class must not change them.
STORED_NAMES = {"order_line", "return_line", "forecast_month", "disputed_line"}


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    """The demo's events with its read side on, as `make demo` runs it (closes, slips, disputes)."""
    rt = build_runtime(Settings().with_database("sqlite:///:memory:"), initial_policy=POLICY)
    Demo(rt.app, after=lambda done: rt.sync(done.position), reports=rt.reports,
         say=lambda _: None).run()
    yield rt.app
    rt.close()


def _as_stored_before(state: bytes) -> bytes:
    """The stored state as the events were written before the typed values: each value a plain
    object of its fields, no class_version."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("_type_") in STORED_NAMES:
                return plain(value["_data_"])
            return {k: plain(v) for k, v in value.items() if k != "class_version"}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(json.loads(state)), separators=(",", ":")).encode()


def test_every_typed_event_of_the_demo_stores_its_values_under_their_names(demo: Any) -> None:
    seen = set()
    for n in demo.recorder.select_notifications(start=1, limit=100_000):
        event = demo.mapper.to_domain_event(n)
        if type(event) in TYPED:
            key, cls = TYPED[type(event)]
            stored = json.loads(n.state)
            assert stored["class_version"] == 2
            assert {item["_type_"] for item in stored[key]} <= STORED_NAMES
            assert all(isinstance(item, cls) for item in getattr(event, key))
            seen.add(type(event))
    assert seen == set(TYPED)


def test_events_stored_before_the_typed_values_read_back_as_them_and_leave_the_same_envelope(
    demo: Any,
) -> None:
    upcast = 0
    for n in demo.recorder.select_notifications(start=1, limit=100_000):
        event = demo.mapper.to_domain_event(n)
        if type(event) not in TYPED:
            continue
        before = StoredEvent(n.originator_id, n.originator_version, n.topic,
                             _as_stored_before(n.state))
        assert b"_type_\":\"order_line" not in before.state and b"class_version" not in before.state
        old = demo.mapper.to_domain_event(before)
        assert vars(old) == vars(event)
        key, cls = TYPED[type(event)]
        assert all(isinstance(item, cls) for item in getattr(old, key))
        assert CODEC.encode(old, position=n.id) == CODEC.encode(event, position=n.id)
        # The relay's unchecked encode writes the typed values as the schema does.
        assert UNCHECKED.encode(old, position=n.id) == CODEC.encode(event, position=n.id)
        upcast += 1
    assert upcast > 10


def test_the_wire_keeps_its_version_and_shape_for_typed_values(demo: Any) -> None:
    for n in demo.recorder.select_notifications(start=1, limit=100_000):
        event = demo.mapper.to_domain_event(n)
        if type(event) is Order.Placed:
            doc = json.loads(CODEC.encode(event, position=n.id))
            assert doc["type"] == "channel.order.Placed.v1"
            line = doc["data"]["lines"][0]
            assert set(line) == {"sku", "name", "qty", "unit_price", "tier_price", "list_price",
                                 "floor_price", "amount", "asked_price"}
            assert isinstance(line["qty"], int) and isinstance(line["unit_price"], str)
            back = CODEC.decode(json.dumps(doc)).data["lines"]
            assert back == event.lines and all(isinstance(x, OrderLine) for x in back)
            return
    pytest.fail("the demo places no order")


def test_the_value_types_are_the_ones_the_store_knows() -> None:
    app = memory_app()
    for cls in VALUE_TYPES:
        assert cls in app.mapper.transcoder.types  # type: ignore[attr-defined]


# --- a requested line, checked once ---------------------------------------------------------

skus = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=3)


@given(sku=skus, qty=st.integers(min_value=1, max_value=10_000), price=st.none() | prices)
def test_a_requested_line_parses_once_and_its_parse_is_idempotent(
    sku: str, qty: int, price: Decimal | None
) -> None:
    raw: dict[str, Any] = {"sku": f" {sku} ", "qty": qty}
    if price is not None:
        raw["unit_price"] = str(price)
    line = RequestedLine.parse(raw, 0)
    assert (line.sku, line.qty) == (sku, qty)
    assert line.unit_price == (None if price is None else price.quantize(Decimal("0.01"),
                                                                         "ROUND_HALF_UP"))
    assert RequestedLine.parse(line, 3) is line
    assert RequestedLine.parse(dict(vars(line)), 0) == line


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("SKU", "lines[2]"),
        ({"sku": "  ", "qty": 1}, "lines[2].sku"),
        ({"qty": 1}, "lines[2].sku"),
        ({"sku": "A", "qty": 0}, "lines[2].qty"),
        ({"sku": "A", "qty": 1.0}, "lines[2].qty"),
        ({"sku": "A", "qty": True}, "lines[2].qty"),
        ({"sku": "A", "qty": 1, "unit_price": 1.5}, "lines[2].unit_price"),
        ({"sku": "A", "qty": 1, "unit_price": "NaN"}, "lines[2].unit_price"),
    ],
)
def test_a_bad_requested_line_is_refused_naming_its_field(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        RequestedLine.parse(raw, 2)
    assert refused.value.field == field


def test_a_return_ignores_an_asked_price() -> None:
    line = RequestedLine.parse({"sku": "A", "qty": 2, "unit_price": "oops"}, 0, price=False)
    assert line == RequestedLine("A", 2, None)
