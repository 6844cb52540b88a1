"""Rules P1–P4: one versioned price list, the distance between tier prices, price approval and
the floor, and pricing with the version in force on the order date (in-memory store)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import InvalidInputError
from domain.order import OrderStatus
from domain.values import Tier
from services.application import ChannelLedger
from tests.builders import (
    FIRST_ORDER_ON,
    PRICE_ITEMS,
    line,
    memory_app,
    onboard,
    place,
    policy_with,
    publish_prices,
    refused,
)

# --- P1 --------------------------------------------------------------------------------------


def test_p1_a_version_holds_list_floor_and_tier_prices_per_sku(app: ChannelLedger) -> None:
    version = app.price_list_on(date(2026, 1, 1))
    assert version is not None and version.number == 1
    router = version.items["ROUTER"]
    assert (router.list_price, router.floor_price) == (Decimal("1000.00"), Decimal("600.00"))
    assert {t: router.tier_price(t) for t in Tier} == {
        Tier.A: Decimal("700.00"),
        Tier.AA: Decimal("780.00"),
        Tier.SI: Decimal("850.00"),
        Tier.END: Decimal("1000.00"),
    }
    assert version.items["SWITCH"].tier_price(Tier.SI) == Decimal("212.50")


def test_p1_every_change_is_a_new_version_and_an_event(app: ChannelLedger) -> None:
    before = app.recorder.max_notification_id() or 0
    publish_prices(app, date(2026, 3, 1), [{**PRICE_ITEMS[0], "list_price": "1100.00"}])
    assert (app.recorder.max_notification_id() or 0) == before + 1
    assert [v.number for v in app.get_price_list().versions] == [1, 2]
    assert app.price_list_on(date(2026, 2, 28)).items["ROUTER"].list_price == Decimal("1000.00")  # type: ignore[union-attr]
    assert app.price_list_on(date(2026, 3, 1)).items["ROUTER"].list_price == Decimal("1100.00")  # type: ignore[union-attr]


def test_p1_an_sku_not_on_the_list_in_force_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    error = refused(app, "P1", app.place_order, dealer_id, "r1", FIRST_ORDER_ON, "east",
                    "prepaid", [line("TOASTER")])
    assert "TOASTER" in error.message


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"sku": "X", "list_price": "abc", "floor_price": "1"}, "items[0].list_price"),
        ({"sku": "X", "list_price": 100.5, "floor_price": "1"}, "items[0].list_price"),
        ({"sku": "X", "list_price": "100"}, "items[0].floor_price"),
    ],
)
def test_p1_an_unreadable_price_is_refused_naming_the_field(
    app: ChannelLedger, item: dict[str, object], field: str
) -> None:
    error = refused(app, None, app.publish_price_list, date(2026, 2, 1), [item],
                    error=InvalidInputError)
    assert error.field == field


def test_p1_an_empty_list_or_a_repeated_sku_is_refused(app: ChannelLedger) -> None:
    refused(app, None, app.publish_price_list, date(2026, 2, 1), [], error=InvalidInputError)
    error = refused(app, "P1", app.publish_price_list, date(2026, 2, 1), [PRICE_ITEMS[0]] * 2)
    assert error.field == "items[1].sku"


# --- P2 --------------------------------------------------------------------------------------


def test_p2_a_floor_above_the_a_price_is_refused_naming_the_sku(app: ChannelLedger) -> None:
    items = [PRICE_ITEMS[1], {"sku": "CHEAP", "list_price": "1000.00", "floor_price": "700.01"}]
    error = refused(app, "P2", app.publish_price_list, date(2026, 2, 1), items)
    assert "CHEAP" in error.message and "SWITCH" not in error.message


def test_p2_a_floor_equal_to_the_a_price_keeps_the_distance(app: ChannelLedger) -> None:
    publish_prices(app, date(2026, 2, 1),
                   [{"sku": "EDGE", "list_price": "1000.00", "floor_price": "700.00"}])


def test_p2_tier_prices_that_round_together_are_refused() -> None:
    # List 0.05: A 0.035 -> 0.04 and AA 0.039 -> 0.04, so A < AA fails after rounding.
    app = memory_app()
    error = refused(app, "P2", app.publish_price_list, date(2026, 1, 1),
                    [{"sku": "TINY", "list_price": "0.05", "floor_price": "0.01"}])
    assert "TINY" in error.message


def test_p2_discounts_without_distance_are_refused() -> None:
    flat = policy_with(discounts={Tier.A: Decimal("0.20"), Tier.AA: Decimal("0.20"),
                                  Tier.SI: Decimal("0.10"), Tier.END: Decimal(0)})
    app = memory_app(flat)
    error = refused(app, "P2", app.publish_price_list, date(2026, 1, 1), PRICE_ITEMS)
    assert "ROUTER" in error.message


# --- P3 --------------------------------------------------------------------------------------


def test_p3_an_order_at_tier_price_is_confirmed_at_once(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed", tier="AA")
    order = app.get_order(place(app, dealer_id, "r1", lines=[line(qty=3)]))
    assert order.status == OrderStatus.CONFIRMED
    assert order.lines[0].unit_price == Decimal("780.00")
    assert order.total == Decimal("2340.00")


def test_p3_a_price_above_the_tier_price_needs_no_approval(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    order = app.get_order(place(app, dealer_id, "r1", lines=[line(unit_price="750")]))
    assert order.status == OrderStatus.CONFIRMED and order.total == Decimal("750.00")


def test_p3_a_price_below_the_tier_price_waits_for_approval(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    order_id = place(app, dealer_id, "r1", lines=[line(qty=2, unit_price="650.00")])
    order = app.get_order(order_id)
    assert order.status == OrderStatus.AWAITING_APPROVAL
    assert [a["rule"] for a in order.approvals] == ["P3"]
    app.decide_order(order_id, True, "price approved", date(2026, 1, 11))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.CONFIRMED
    assert order.confirmed_on == date(2026, 1, 11)
    assert order.total == Decimal("1300.00")  # at the approved price


def test_p3_a_rejected_price_leaves_the_order_rejected(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    order_id = place(app, dealer_id, "r1", lines=[line(unit_price="650.00")])
    app.decide_order(order_id, False, "too low", date(2026, 1, 11))
    assert app.get_order(order_id).status == OrderStatus.REJECTED
    refused(app, "P3", app.decide_order, order_id, True, "changed my mind", date(2026, 1, 12))


def test_p3_a_price_below_the_floor_is_refused_outright(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    error = refused(app, "P3", app.place_order, dealer_id, "r1", FIRST_ORDER_ON, "east",
                    "prepaid", [line("SWITCH"), line(unit_price="599.99")])
    assert "ROUTER" in error.message and "lines[1]" in error.message


def test_p3_a_price_on_the_floor_waits_for_approval(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    order = app.get_order(place(app, dealer_id, "r1", lines=[line(unit_price="600.00")]))
    assert order.status == OrderStatus.AWAITING_APPROVAL


def test_p3_an_order_without_approvals_has_nothing_to_approve(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    order_id = place(app, dealer_id, "r1")
    refused(app, "P3", app.decide_order, order_id, True, "", date(2026, 1, 11))


def test_p3_a_decision_dated_before_the_order_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    order_id = place(app, dealer_id, "r1", lines=[line(unit_price="650.00")])
    error = refused(app, "O3", app.decide_order, order_id, True, "", date(2026, 1, 9))
    assert error.field == "decided_on"


# --- P4 --------------------------------------------------------------------------------------


def test_p4_an_order_is_priced_with_the_version_in_force_on_its_date(
    app: ChannelLedger,
) -> None:
    publish_prices(app, date(2026, 3, 1), [{**PRICE_ITEMS[0], "list_price": "1200.00"}])
    dealer_id = onboard(app, "signed")
    before = app.get_order(place(app, dealer_id, "feb", on=date(2026, 2, 28)))
    after = app.get_order(place(app, dealer_id, "mar", on=date(2026, 3, 1)))
    assert (before.price_list_version, before.total) == (1, Decimal("700.00"))
    assert (after.price_list_version, after.total) == (2, Decimal("840.00"))


def test_p4_a_version_published_later_for_an_earlier_date_prices_later_orders_only(
    app: ChannelLedger,
) -> None:
    dealer_id = onboard(app, "signed")
    placed = place(app, dealer_id, "r1", on=date(2026, 2, 10))
    publish_prices(app, date(2026, 2, 1), [{**PRICE_ITEMS[0], "list_price": "1200.00"}])
    assert app.get_order(placed).total == Decimal("700.00")  # confirmed prices stay
    again = app.get_order(place(app, dealer_id, "r2", on=date(2026, 2, 10)))
    assert again.total == Decimal("840.00")


def test_p4_an_order_dated_before_any_price_list_is_refused() -> None:
    app = memory_app()
    publish_prices(app, date(2026, 2, 1))
    dealer_id = onboard(app, "signed")
    error = refused(app, "P4", app.place_order, dealer_id, "r1", date(2026, 1, 20), "east",
                    "prepaid", [line()])
    assert error.field == "order_date"


@pytest.mark.parametrize(
    "item",
    [{"sku": " ", "list_price": "10", "floor_price": "5"},
     {"sku": "ZERO", "list_price": "0", "floor_price": "0"},
     {"sku": "NEG", "list_price": "10", "floor_price": "-1"}],
)
def test_p1_an_item_without_sku_or_positive_prices_is_refused(
    app: ChannelLedger, item: dict[str, str]
) -> None:
    error = refused(app, None, app.publish_price_list, date(2026, 2, 1), [item],
                    error=InvalidInputError)
    assert error.field == "items"
