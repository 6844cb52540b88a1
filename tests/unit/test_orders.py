"""Rules O1–O4 and D9 on orders: idempotent placement, who may order, the life cycle with
cancellation and partial returns, prepaid shipping, cross-region approval (in-memory store)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from domain.order import OrderStatus
from services.application import ChannelLedger
from tests.builders import (
    FIRST_ORDER_ON,
    fulfil,
    line,
    memory_app,
    onboard,
    place,
    publish_prices,
    refused,
    writes_nothing,
)

JAN = date(2026, 1, 10)


@pytest.fixture
def dealer(app: ChannelLedger) -> str:
    return onboard(app, "active")


def lines_2() -> list[dict[str, Any]]:
    return [line("ROUTER", 2), line("SWITCH", 4)]


# --- O1 --------------------------------------------------------------------------------------


def test_o1_an_order_names_dealer_ref_date_region_payment_and_lines(
    app: ChannelLedger, dealer: str
) -> None:
    done = app.place_order(dealer, "po-1", JAN, "east", "prepaid", lines_2())
    order = app.get_order(str(done.value.id))
    assert (order.dealer_id, order.client_ref, order.order_date) == (dealer, "po-1", JAN)
    assert (order.ship_to_region, order.payment.value) == ("east", "prepaid")
    assert [(x.sku, x.qty, x.amount) for x in order.lines] == [
        ("ROUTER", 2, Decimal("1400.00")), ("SWITCH", 4, Decimal("700.00"))
    ]
    assert order.total == Decimal("2100.00")
    assert done.created and done.position == app.recorder.max_notification_id()


def test_o1_placing_the_same_order_twice_yields_one_order(
    app: ChannelLedger, dealer: str
) -> None:
    first = app.place_order(dealer, "po-1", JAN, "east", "prepaid", lines_2())
    with writes_nothing(app):
        again = app.place_order(dealer, "po-1", JAN, "east", "prepaid", list(reversed(lines_2())))
    assert again.value.id == first.value.id
    assert (again.created, again.position) == (False, None)


def test_o1_the_same_order_with_an_asked_price_is_recognised(
    app: ChannelLedger, dealer: str
) -> None:
    first = app.place_order(dealer, "po-1", JAN, "east", "prepaid", [line(unit_price="650")])
    with writes_nothing(app):
        again = app.place_order(dealer, "po-1", JAN, "east", "prepaid",
                                [line(unit_price="650.00")])
    assert again.value.id == first.value.id and not again.created


@pytest.mark.parametrize(
    "change",
    [
        {"order_date": date(2026, 1, 11)},
        {"ship_to_region": "west"},
        {"payment": "credit"},
        {"lines": [line("ROUTER", 3)]},
        {"lines": [line("ROUTER", 2, unit_price="700.00"), line("SWITCH", 4)]},
    ],
)
def test_o1_a_client_ref_reused_for_another_order_is_refused(
    app: ChannelLedger, dealer: str, change: dict[str, Any]
) -> None:
    app.place_order(dealer, "po-1", JAN, "east", "prepaid", lines_2())
    request = {"dealer_id": dealer, "client_ref": "po-1", "order_date": JAN,
               "ship_to_region": "east", "payment": "prepaid", "lines": lines_2(), **change}
    error = refused(app, "O1", app.place_order, **request)
    assert error.field == "client_ref"


def test_o1_client_refs_are_unique_per_dealer_not_globally(
    app: ChannelLedger, dealer: str
) -> None:
    other = onboard(app, "active", name="other")
    a = place(app, dealer, "po-1")
    b = place(app, other, "po-1")
    assert a != b


@pytest.mark.parametrize(
    ("lines", "fragment"),
    [
        ([], "lines"),
        ([{"sku": "ROUTER", "qty": 0}], "lines[0].qty"),
        ([{"sku": "ROUTER", "qty": -1}], "lines[0].qty"),
        ([{"sku": "ROUTER", "qty": "two"}], "lines[0].qty"),
        ([{"sku": "ROUTER", "qty": 1.5}], "lines[0].qty"),
        ([{"sku": "ROUTER"}], "lines[0].qty"),
        ([{"qty": 1}], "lines[0].sku"),
        ([{"sku": "ROUTER", "qty": 1, "unit_price": "cheap"}], "lines[0].unit_price"),
        ([{"sku": "ROUTER", "qty": 1, "unit_price": 699.5}], "lines[0].unit_price"),
        ([{"sku": "ROUTER", "qty": 1, "unit_price": "0"}], "lines[0].unit_price"),
    ],
)
def test_o1_unreadable_lines_are_refused_naming_the_line(
    app: ChannelLedger, dealer: str, lines: list[dict[str, Any]], fragment: str
) -> None:
    error = refused(app, None, app.place_order, dealer, "po-x", JAN, "east", "prepaid", lines,
                    error=InvalidInputError)
    assert error.field == fragment and fragment in error.message


def test_o1_a_sku_on_two_lines_is_refused_naming_the_second(app: ChannelLedger, dealer: str) -> None:
    error = refused(app, "O1", app.place_order, dealer, "po-x", JAN, "east", "prepaid",
                    [line("ROUTER"), line("ROUTER")])
    assert error.field == "lines[1].sku" and "merge the lines" in error.message


@pytest.mark.parametrize(
    ("change", "field"),
    [({"client_ref": " "}, "client_ref"), ({"payment": "barter"}, "payment"),
     ({"ship_to_region": ""}, "ship_to_region")],
)
def test_o1_a_missing_or_unknown_header_field_is_refused(
    app: ChannelLedger, dealer: str, change: dict[str, Any], field: str
) -> None:
    request = {"dealer_id": dealer, "client_ref": "po-1", "order_date": JAN,
               "ship_to_region": "east", "payment": "prepaid", "lines": [line()], **change}
    error = refused(app, None, app.place_order, **request, error=InvalidInputError)
    assert error.field == field


def test_o1_an_order_for_an_unknown_dealer_is_not_found(app: ChannelLedger) -> None:
    refused(app, None, app.place_order, "5f1d0c1e-0000-4000-8000-000000000000", "po-1", JAN,
            "east", "prepaid", [line()], error=NotFoundError)


# --- O2 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["registered", "draft", "forecast"])
def test_o2_a_dealer_without_a_formal_agreement_cannot_order(
    app: ChannelLedger, stage: str
) -> None:
    dealer_id = onboard(app, stage)
    refused(app, "O2", app.place_order, dealer_id, "po-1", JAN, "east", "prepaid", [line()])


def test_o2_an_order_dated_before_the_agreement_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    error = refused(app, "O2", app.place_order, dealer_id, "po-1", date(2026, 1, 4), "east",
                    "prepaid", [line()])
    assert error.field == "order_date"


def test_o2_an_order_after_the_agreement_term_is_refused(app: ChannelLedger, dealer: str) -> None:
    # Started 2026-01 for 12 months: the last day in force is 2026-12-31.
    place(app, dealer, "last-day", on=date(2026, 12, 31))
    error = refused(app, "O2", app.place_order, dealer, "po-1", date(2027, 1, 1), "east",
                    "prepaid", [line()])
    assert error.field == "order_date"


def test_o2_a_terminated_dealer_cannot_order(app: ChannelLedger, dealer: str) -> None:
    app.terminate_dealer(dealer, date(2026, 2, 1), "dispute")
    refused(app, "O2", app.place_order, dealer, "po-1", date(2026, 2, 2), "east", "prepaid",
            [line()])


def test_o2_approving_an_order_of_a_dealer_terminated_meanwhile_is_refused(
    app: ChannelLedger, dealer: str
) -> None:
    order_id = place(app, dealer, "po-1", lines=[line(unit_price="650")])
    app.terminate_dealer(dealer, date(2026, 1, 11), "violation")
    refused(app, "O2", app.decide_order, order_id, True, "ok", date(2026, 1, 12))
    app.decide_order(order_id, False, "dealer gone", date(2026, 1, 12))
    assert app.get_order(order_id).status == OrderStatus.REJECTED


# --- O3 --------------------------------------------------------------------------------------


def test_o3_life_cycle_placed_confirmed_shipped_delivered_paid(
    app: ChannelLedger, dealer: str
) -> None:
    order_id = place(app, dealer, "po-1", lines=lines_2())
    assert app.get_order(order_id).status == OrderStatus.CONFIRMED
    app.record_payment(order_id, date(2026, 1, 11), "2100.00")
    assert app.get_order(order_id).status == OrderStatus.CONFIRMED
    app.ship_order(order_id, date(2026, 1, 12))
    assert app.get_order(order_id).status == OrderStatus.SHIPPED
    app.deliver_order(order_id, date(2026, 1, 14))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.PAID  # prepaid in full before delivery
    assert (order.shipped_on, order.delivered_on) == (date(2026, 1, 12), date(2026, 1, 14))


def test_o3_an_order_awaiting_approval_can_neither_ship_nor_be_paid(
    app: ChannelLedger, dealer: str
) -> None:
    order_id = place(app, dealer, "po-1", lines=[line(unit_price="650")])
    refused(app, "O3", app.ship_order, order_id, date(2026, 1, 12))
    refused(app, "O3", app.record_payment, order_id, date(2026, 1, 12), "650.00")
    refused(app, "O3", app.deliver_order, order_id, date(2026, 1, 12))


@pytest.mark.parametrize("approval", [False, True])
def test_o3_cancel_is_possible_until_shipped(
    app: ChannelLedger, dealer: str, approval: bool
) -> None:
    order_id = place(app, dealer, "po-1", lines=[line(unit_price="650" if approval else None)])
    app.cancel_order(order_id, "changed plans", date(2026, 1, 11))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.CANCELLED
    assert order.cancellation == {
        "reason": "changed plans", "cancelled_on": date(2026, 1, 11),
        "was": "awaiting_approval" if approval else "confirmed",
    }


def test_o3_a_shipped_order_cannot_be_cancelled(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po-1")
    app.record_payment(order_id, JAN, "700.00")
    app.ship_order(order_id, JAN)
    refused(app, "O3", app.cancel_order, order_id, "too late", date(2026, 1, 11))
    app.deliver_order(order_id, date(2026, 1, 12))
    refused(app, "O3", app.cancel_order, order_id, "too late", date(2026, 1, 13))


def test_o3_a_cancelled_order_goes_no_further(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po-1")
    app.cancel_order(order_id, "", date(2026, 1, 11))
    refused(app, "O3", app.cancel_order, order_id, "", date(2026, 1, 11))
    refused(app, "O3", app.ship_order, order_id, date(2026, 1, 12))
    refused(app, "O3", app.record_payment, order_id, date(2026, 1, 12), "700.00")


def test_o3_partial_returns_per_line_after_delivery(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po-1", lines=lines_2())
    fulfil(app, order_id, date(2026, 1, 12))
    app.return_order_lines(order_id, date(2026, 1, 20), [{"sku": "SWITCH", "qty": 1}])
    app.return_order_lines(order_id, date(2026, 1, 21),
                           [{"sku": "SWITCH", "qty": 3}, {"sku": "ROUTER", "qty": 1}])
    order = app.get_order(order_id)
    assert order.returned_qty == {"SWITCH": 4, "ROUTER": 1}
    assert order.returned_value == Decimal("1400.00")
    assert [r["value"] for r in order.returns] == [Decimal("175.00"), Decimal("1225.00")]
    error = refused(app, "O3", app.return_order_lines, order_id, date(2026, 1, 22),
                    [{"sku": "ROUTER", "qty": 2}])
    assert "only 1 of ROUTER" in error.message


def test_o3_a_return_split_over_two_lines_of_one_sku_counts_both(
    app: ChannelLedger, dealer: str
) -> None:
    order_id = place(app, dealer, "po-1", lines=[line("ROUTER", 2)])
    fulfil(app, order_id, date(2026, 1, 12))
    refused(app, "O3", app.return_order_lines, order_id, date(2026, 1, 20),
            [{"sku": "ROUTER", "qty": 2}, {"sku": "ROUTER", "qty": 1}])


def test_o3_a_return_before_delivery_is_refused(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po-1")
    refused(app, "O3", app.return_order_lines, order_id, date(2026, 1, 20),
            [{"sku": "ROUTER", "qty": 1}])
    app.record_payment(order_id, JAN, "700.00")
    app.ship_order(order_id, JAN)
    refused(app, "O3", app.return_order_lines, order_id, date(2026, 1, 20),
            [{"sku": "ROUTER", "qty": 1}])


@pytest.mark.parametrize(
    ("lines", "error_type", "rule"),
    [
        ([], InvalidInputError, None),
        ([{"sku": "SWITCH", "qty": 1}], RuleViolationError, "O3"),  # not on the order
        ([{"sku": "ROUTER", "qty": 0}], InvalidInputError, None),
        ([{"sku": "ROUTER", "qty": "one"}], InvalidInputError, None),
    ],
)
def test_o3_an_unreadable_return_is_refused(
    app: ChannelLedger, dealer: str, lines: list[dict[str, Any]],
    error_type: type[Exception], rule: str | None,
) -> None:
    order_id = place(app, dealer, "po-1")
    fulfil(app, order_id, date(2026, 1, 12))
    refused(app, rule, app.return_order_lines, order_id, date(2026, 1, 20), lines,
            error=error_type)  # type: ignore[arg-type]


def test_o3_a_return_dated_before_delivery_is_refused(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po-1")
    fulfil(app, order_id, date(2026, 1, 12))
    error = refused(app, "O3", app.return_order_lines, order_id, date(2026, 1, 11),
                    [{"sku": "ROUTER", "qty": 1}])
    assert error.field == "returned_on"


@pytest.mark.parametrize(
    ("step", "field"),
    [("ship", "shipped_on"), ("deliver", "delivered_on")],
)
def test_o3_fulfilment_dated_out_of_order_is_refused(
    app: ChannelLedger, dealer: str, step: str, field: str
) -> None:
    order_id = place(app, dealer, "po-1", on=date(2026, 1, 10))
    app.record_payment(order_id, date(2026, 1, 10), "700.00")
    if step == "ship":
        error = refused(app, "O3", app.ship_order, order_id, date(2026, 1, 9))
    else:
        app.ship_order(order_id, date(2026, 1, 12))
        error = refused(app, "O3", app.deliver_order, order_id, date(2026, 1, 11))
    assert error.field == field


def test_o3_payment_beyond_what_is_outstanding_is_refused(
    app: ChannelLedger, dealer: str
) -> None:
    order_id = place(app, dealer, "po-1")
    app.record_payment(order_id, JAN, "500.00")
    error = refused(app, "O3", app.record_payment, order_id, JAN, "200.01")
    assert error.field == "amount"


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "abc", 1.5])
def test_o3_an_unreadable_payment_is_refused(
    app: ChannelLedger, dealer: str, amount: object
) -> None:
    order_id = place(app, dealer, "po-1")
    error = refused(app, None, app.record_payment, order_id, JAN, amount,
                    error=InvalidInputError)
    assert error.field == "amount"


def test_o3_an_unknown_order_is_not_found(app: ChannelLedger) -> None:
    refused(app, None, app.ship_order, "no-such-order", JAN, error=NotFoundError)


# --- O4 (prepaid; credit orders are in test_credit) ---------------------------------------


def test_o4_a_prepaid_order_ships_only_after_full_payment(
    app: ChannelLedger, dealer: str
) -> None:
    order_id = place(app, dealer, "po-1", lines=[line(qty=2)])
    refused(app, "O4", app.ship_order, order_id, date(2026, 1, 11))
    app.record_payment(order_id, date(2026, 1, 11), "1000.00")
    error = refused(app, "O4", app.ship_order, order_id, date(2026, 1, 11))
    assert "1000.00 of 1400.00" in error.message
    app.record_payment(order_id, date(2026, 1, 12), "400.00")
    app.ship_order(order_id, date(2026, 1, 12))
    assert app.get_order(order_id).status == OrderStatus.SHIPPED


def test_o4_a_credit_order_from_a_tier_other_than_a_is_refused(app: ChannelLedger) -> None:
    for tier in ("AA", "SI"):
        dealer_id = onboard(app, "active", tier=tier, name=tier)
        refused(app, "O4", app.place_order, dealer_id, "po-1", JAN, "east", "credit", [line()])


def test_o4_a_credit_order_without_a_rated_credit_line_is_refused(
    app: ChannelLedger, dealer: str
) -> None:
    error = refused(app, "O4", app.place_order, dealer, "po-1", JAN, "east", "credit", [line()])
    assert "none" in error.message


# --- D9 --------------------------------------------------------------------------------------


def test_d9_an_order_shipped_to_another_region_needs_approval(
    app: ChannelLedger, dealer: str
) -> None:
    order_id = place(app, dealer, "po-1", region="west")
    order = app.get_order(order_id)
    assert order.status == OrderStatus.AWAITING_APPROVAL
    assert [a["rule"] for a in order.approvals] == ["D9"]
    app.decide_order(order_id, True, "region manager agrees", date(2026, 1, 12))
    assert app.get_order(order_id).status == OrderStatus.CONFIRMED


def test_d9_a_refused_cross_region_order_is_rejected(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po-1", region="west")
    app.decide_order(order_id, False, "west belongs to another dealer", date(2026, 1, 12))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.REJECTED
    refused(app, "O3", app.ship_order, order_id, date(2026, 1, 13))


def test_d9_and_p3_together_need_one_approval_naming_both(
    app: ChannelLedger, dealer: str
) -> None:
    order_id = place(app, dealer, "po-1", region="west", lines=[line(unit_price="650")])
    assert sorted(a["rule"] for a in app.get_order(order_id).approvals) == ["D9", "P3"]


def test_d9_orders_in_the_own_region_need_no_approval(app: ChannelLedger) -> None:
    # The check compares with the dealer's region, not with a fixed one.
    west = onboard(app, "signed", region="west", name="west")
    assert app.get_order(place(app, west, "po-1", region="west")).status == OrderStatus.CONFIRMED


def test_an_unreadable_first_order_leaves_the_agreement_not_in_effect() -> None:
    app = memory_app()
    publish_prices(app)
    dealer_id = onboard(app, "signed")
    refused(app, None, app.place_order, dealer_id, "po-1", FIRST_ORDER_ON, "east", "prepaid",
            [{"sku": "ROUTER", "qty": 0}], error=InvalidInputError)
    assert app.get_dealer(dealer_id).agreement["start_month"] is None  # type: ignore[index]


@pytest.mark.parametrize("step", ["cancel", "pay"])
def test_o3_a_cancellation_or_payment_dated_before_the_order_is_refused(
    app: ChannelLedger, dealer: str, step: str
) -> None:
    order_id = place(app, dealer, "po-1", on=date(2026, 1, 10))
    if step == "cancel":
        error = refused(app, "O3", app.cancel_order, order_id, "", date(2026, 1, 9))
        assert error.field == "cancelled_on"
    else:
        error = refused(app, "O3", app.record_payment, order_id, date(2026, 1, 9), "700.00")
        assert error.field == "paid_on"
