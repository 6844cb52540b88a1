"""Rules C1–C5 and the credit half of O4: rating with its five criteria, the credit line's limit,
reservations and receivables, suspension, and overdue receivables (in-memory store)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.credit import CreditStatus
from domain.errors import ChannelError
from domain.order import OrderStatus
from services.application import ChannelLedger
from tests.builders import (
    line,
    memory_app,
    onboard,
    place,
    policy_with,
    publish_prices,
    rated_dealer,
    refused,
)

APR = date(2026, 4, 1)
LIMIT = Decimal("10000.00")  # the builders' agreed monthly amount × 1.0


@pytest.fixture
def rated(app: ChannelLedger) -> str:
    return rated_dealer(app)


def qualified(app: ChannelLedger, short_month: int | None = None, name: str = "q") -> str:
    """A signed tier-A dealer with agreement months Jan–Mar 2026; each month's orders reach the
    agreed 10,000 except `short_month` (1–3), which gets one router (700)."""
    dealer_id = onboard(app, "signed", name=name)
    for month in (1, 2, 3):
        qty = 1 if month == short_month else 15
        place(app, dealer_id, f"m{month}", on=date(2026, month, 10), lines=[line(qty=qty)])
    return dealer_id


def credit_order(app: ChannelLedger, dealer_id: str, ref: str, qty: int = 1,
                 on: date = APR, unit_price: str | None = None) -> str:
    return place(app, dealer_id, ref, on=on, payment="credit",
                 lines=[line(qty=qty, unit_price=unit_price)])


def exposure(app: ChannelLedger, dealer_id: str) -> tuple[Decimal, Decimal, Decimal]:
    credit = app.get_credit_line(dealer_id)
    return credit.reserved_total, credit.receivable_total, credit.available


def last_evaluation(app: ChannelLedger, dealer_id: str) -> dict[str, object]:
    return app.get_credit_line(dealer_id).evaluations[-1]


# --- C1 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["AA", "SI", "END"])
def test_c1_only_tier_a_dealers_can_be_rated_for_credit(app: ChannelLedger, tier: str) -> None:
    dealer_id = onboard(app, "registered" if tier == "END" else "signed", tier=tier)
    refused(app, "C1", app.evaluate_credit, dealer_id, APR, attested=True)


def test_c1_a_dealer_demoted_from_a_orders_on_credit_no_more(
    app: ChannelLedger, rated: str
) -> None:
    app.change_tier(rated, "AA", "demoted", date(2026, 4, 2))
    refused(app, "O4", app.place_order, rated, "c1", date(2026, 4, 3), "east", "credit",
            [line()])


# --- C2 --------------------------------------------------------------------------------------


def test_c2_a_dealer_meeting_all_five_criteria_is_rated(app: ChannelLedger) -> None:
    dealer_id = qualified(app)
    done = app.evaluate_credit(dealer_id, APR, attested=True)
    assert done.position == app.recorder.max_notification_id()
    assert last_evaluation(app, dealer_id) == {
        "as_of": APR, "eligible": True, "failed_criteria": []
    }
    credit = app.get_credit_line(dealer_id)
    assert (credit.status, credit.limit) == (CreditStatus.OPEN, LIMIT)


def test_c2_1_a_dealer_without_formal_agreement_fails_criterion_1(app: ChannelLedger) -> None:
    # Criterion 2 needs the agreement's months, so it cannot pass without criterion 1.
    dealer_id = onboard(app, "forecast")
    app.evaluate_credit(dealer_id, APR, attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == [1, 2]
    assert app.get_credit_line(dealer_id).status == CreditStatus.NONE


@pytest.mark.parametrize("short_month", [1, 2, 3])
def test_c2_2_a_month_below_the_agreed_amount_fails_criterion_2_alone(
    app: ChannelLedger, short_month: int
) -> None:
    dealer_id = qualified(app, short_month)
    app.evaluate_credit(dealer_id, APR, attested=True)
    evaluation = last_evaluation(app, dealer_id)
    assert (evaluation["eligible"], evaluation["failed_criteria"]) == (False, [2])
    assert app.get_credit_line(dealer_id).status == CreditStatus.NONE


def test_c2_2_an_amount_exactly_reached_counts(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed", monthly_amount=Decimal("7000"))
    for month in (1, 2, 3):
        place(app, dealer_id, f"m{month}", on=date(2026, month, 10), lines=[line(qty=10)])
    app.evaluate_credit(dealer_id, APR, attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == []


def test_c2_2_order_value_of_several_orders_in_a_month_adds_up(app: ChannelLedger) -> None:
    dealer_id = qualified(app, short_month=2)
    place(app, dealer_id, "m2-more", on=date(2026, 2, 20), lines=[line(qty=14)])
    app.evaluate_credit(dealer_id, APR, attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == []


def test_c2_2_a_cancelled_order_no_longer_counts(app: ChannelLedger) -> None:
    dealer_id = qualified(app)
    app.cancel_order(app.find_order(dealer_id, "m3").id.__str__(), "", date(2026, 3, 11))  # type: ignore[union-attr]
    app.evaluate_credit(dealer_id, APR, attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == [2]


def test_c2_2_an_order_awaiting_approval_does_not_count_until_approved(
    app: ChannelLedger,
) -> None:
    dealer_id = qualified(app, short_month=3)
    order_id = place(app, dealer_id, "m3-low", on=date(2026, 3, 20),
                     lines=[line(qty=14, unit_price="690")])
    app.evaluate_credit(dealer_id, APR, attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == [2]
    app.decide_order(order_id, True, "ok", date(2026, 4, 2))  # order value by order date
    app.evaluate_credit(dealer_id, date(2026, 4, 3), attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == []


def test_c2_2_before_the_third_month_has_begun_criterion_2_fails(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    for month in (1, 2):
        place(app, dealer_id, f"m{month}", on=date(2026, month, 10), lines=[line(qty=15)])
    app.evaluate_credit(dealer_id, date(2026, 2, 28), attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == [2]


@pytest.mark.parametrize("kind", ["bad_debt", "dispute"])
def test_c2_3_a_bad_debt_or_dispute_in_the_last_three_months_fails_criterion_3(
    app: ChannelLedger, kind: str
) -> None:
    dealer_id = qualified(app)
    app.record_incident(dealer_id, kind, date(2026, 2, 15), "late")
    app.evaluate_credit(dealer_id, APR, attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == [3]


def test_c2_3_an_incident_older_than_three_months_does_not_count(app: ChannelLedger) -> None:
    dealer_id = qualified(app)
    app.record_incident(dealer_id, "dispute", date(2026, 1, 20), "settled")
    app.evaluate_credit(dealer_id, date(2026, 4, 20), attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == []
    app.evaluate_credit(dealer_id, date(2026, 4, 19), attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == [3]


def test_c2_4_without_the_managers_attestation_criterion_4_fails(app: ChannelLedger) -> None:
    dealer_id = qualified(app)
    app.evaluate_credit(dealer_id, APR, attested=False)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == [4]


def test_c2_5_a_violation_of_the_agreement_fails_criterion_5_however_old(
    app: ChannelLedger,
) -> None:
    dealer_id = qualified(app)
    app.record_incident(dealer_id, "violation", date(2026, 1, 12), "sold cross-region")
    app.evaluate_credit(dealer_id, date(2026, 12, 1), attested=True)
    assert last_evaluation(app, dealer_id)["failed_criteria"] == [5]


def test_c2_the_evaluation_event_records_the_failed_criteria_and_figures(
    app: ChannelLedger,
) -> None:
    dealer_id = qualified(app, short_month=3)
    app.record_incident(dealer_id, "violation", date(2026, 3, 1), "")
    app.evaluate_credit(dealer_id, APR, attested=False)
    stored = [n for n in app.recorder.select_notifications(start=1, limit=1000)
              if n.topic.endswith("CreditLine.Evaluated")]
    event = app.mapper.to_domain_event(stored[-1])
    assert event.failed_criteria == [2, 4, 5]  # type: ignore[attr-defined]
    months = event.details["2"]["months"]  # type: ignore[attr-defined]
    assert [m["order_value"] for m in months] == [
        Decimal("10500.00"), Decimal("10500.00"), Decimal("700.00")
    ]
    assert event.policy_version == "2026.1"  # type: ignore[attr-defined]


def test_c2_a_terminated_dealer_is_not_rated(app: ChannelLedger) -> None:
    dealer_id = qualified(app)
    app.terminate_dealer(dealer_id, date(2026, 3, 31), "left")
    refused(app, "C2", app.evaluate_credit, dealer_id, APR, attested=True)


# --- C3 --------------------------------------------------------------------------------------


def test_c3_the_limit_is_the_agreed_amount_times_the_policy_multiple() -> None:
    app = memory_app(policy_with(credit_multiple=Decimal("1.5")))
    publish_prices(app)
    dealer_id = rated_dealer(app, monthly_amount=Decimal("10000.005"))
    assert app.get_credit_line(dealer_id).limit == Decimal("15000.01")


def test_c3_confirmation_reserves_delivery_books_payment_releases(
    app: ChannelLedger, rated: str
) -> None:
    assert exposure(app, rated) == (0, 0, LIMIT)
    order_id = credit_order(app, rated, "c1", qty=4)  # 2,800.00
    assert exposure(app, rated) == (Decimal("2800.00"), 0, Decimal("7200.00"))
    app.ship_order(order_id, date(2026, 4, 2))  # credit orders ship unpaid
    assert exposure(app, rated) == (Decimal("2800.00"), 0, Decimal("7200.00"))
    app.deliver_order(order_id, date(2026, 4, 3))
    assert exposure(app, rated) == (0, Decimal("2800.00"), Decimal("7200.00"))
    assert app.get_credit_line(rated).receivables[order_id]["due_on"] == date(2026, 5, 3)
    app.record_payment(order_id, date(2026, 4, 10), "1000.00")
    assert exposure(app, rated) == (0, Decimal("1800.00"), Decimal("8200.00"))
    app.record_payment(order_id, date(2026, 4, 11), "1800.00")
    assert exposure(app, rated) == (0, 0, LIMIT)
    assert app.get_order(order_id).status == OrderStatus.PAID


def test_c3_cancellation_releases_the_reservation(app: ChannelLedger, rated: str) -> None:
    order_id = credit_order(app, rated, "c1", qty=4)
    app.cancel_order(order_id, "", date(2026, 4, 2))
    assert exposure(app, rated) == (0, 0, LIMIT)


def test_c3_a_return_lowers_the_receivable(app: ChannelLedger, rated: str) -> None:
    order_id = credit_order(app, rated, "c1", qty=4)
    app.ship_order(order_id, date(2026, 4, 2))
    app.deliver_order(order_id, date(2026, 4, 3))
    app.return_order_lines(order_id, date(2026, 4, 5), [{"sku": "ROUTER", "qty": 1}])
    assert exposure(app, rated) == (0, Decimal("2100.00"), Decimal("7900.00"))
    app.record_payment(order_id, date(2026, 4, 6), "2100.00")
    assert exposure(app, rated) == (0, 0, LIMIT)
    assert app.get_order(order_id).status == OrderStatus.PAID


def test_c3_an_order_above_the_available_credit_is_refused(
    app: ChannelLedger, rated: str
) -> None:
    credit_order(app, rated, "c1", qty=10)  # 7,000.00
    refused(app, "C3", app.place_order, rated, "c2", APR, "east", "credit", [line(qty=5)])
    credit_order(app, rated, "c3", qty=4, unit_price="750.00")  # exactly 3,000.00 left
    assert exposure(app, rated) == (LIMIT, 0, 0)


def test_c3_approval_reserves_and_is_refused_once_the_credit_is_gone(
    app: ChannelLedger, rated: str
) -> None:
    waiting = place(app, rated, "c1", on=APR, payment="credit", region="west",
                    lines=[line(qty=8)])
    assert exposure(app, rated) == (0, 0, LIMIT)  # nothing reserved while awaiting approval
    credit_order(app, rated, "c2", qty=8)
    refused(app, "C3", app.decide_order, waiting, True, "ok", date(2026, 4, 2))
    assert app.get_order(waiting).status == OrderStatus.AWAITING_APPROVAL
    app.cancel_order(app.find_order(rated, "c2").id.__str__(), "", date(2026, 4, 2))  # type: ignore[union-attr]
    app.decide_order(waiting, True, "ok", date(2026, 4, 2))
    assert exposure(app, rated) == (Decimal("5600.00"), 0, Decimal("4400.00"))


# --- C4 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bad_debt", "dispute", "violation"])
def test_c4_an_incident_suspends_the_credit_line_at_once(
    app: ChannelLedger, rated: str, kind: str
) -> None:
    app.record_incident(rated, kind, date(2026, 4, 10), "seen")
    credit = app.get_credit_line(rated)
    assert credit.status == CreditStatus.SUSPENDED
    assert credit.suspension == {"on": date(2026, 4, 10), "reason": f"{kind}: seen"}
    refused(app, "O4", app.place_order, rated, "c1", date(2026, 4, 10), "east", "credit",
            [line()])


def test_c4_the_suspended_line_is_re_rated_only_after_three_clean_months(
    app: ChannelLedger, rated: str
) -> None:
    app.record_incident(rated, "dispute", date(2026, 4, 10), "")
    app.evaluate_credit(rated, date(2026, 7, 9), attested=True)
    assert last_evaluation(app, rated)["failed_criteria"] == [3]
    assert app.get_credit_line(rated).status == CreditStatus.SUSPENDED
    app.evaluate_credit(rated, date(2026, 7, 10), attested=True)
    assert app.get_credit_line(rated).status == CreditStatus.OPEN
    credit_order(app, rated, "c1", on=date(2026, 7, 10))


def test_c4_termination_suspends_the_credit_line(app: ChannelLedger, rated: str) -> None:
    app.terminate_dealer(rated, date(2026, 4, 10), "violation")
    assert app.get_credit_line(rated).status == CreditStatus.SUSPENDED


def test_c4_an_incident_without_a_credit_line_records_only_the_incident(
    app: ChannelLedger,
) -> None:
    dealer_id = onboard(app, "active")
    before = app.recorder.max_notification_id() or 0
    app.record_incident(dealer_id, "dispute", date(2026, 2, 1), "")
    assert app.recorder.max_notification_id() == before + 1
    assert app.get_credit_line(dealer_id).status == CreditStatus.NONE


def test_c4_a_suspended_line_still_books_what_it_had_reserved(
    app: ChannelLedger, rated: str
) -> None:
    order_id = credit_order(app, rated, "c1", qty=2)
    app.record_incident(rated, "bad_debt", date(2026, 4, 2), "")
    app.ship_order(order_id, date(2026, 4, 3))
    app.deliver_order(order_id, date(2026, 4, 4))
    assert exposure(app, rated)[:2] == (0, Decimal("1400.00"))


# --- C5 --------------------------------------------------------------------------------------


def test_c5_an_overdue_receivable_blocks_new_credit_orders(
    app: ChannelLedger, rated: str
) -> None:
    order_id = credit_order(app, rated, "c1", qty=2, on=date(2026, 4, 1))
    app.ship_order(order_id, date(2026, 4, 2))
    app.deliver_order(order_id, date(2026, 4, 2))  # due 30 days later: 2026-05-02
    credit_order(app, rated, "on-due-day", on=date(2026, 5, 2))
    error = refused(app, "C5", app.place_order, rated, "late", date(2026, 5, 3), "east",
                    "credit", [line()])
    assert order_id in error.message
    # Prepaid orders are not credit orders: still accepted.
    place(app, rated, "prepaid", on=date(2026, 5, 3))
    app.record_payment(order_id, date(2026, 5, 3), "1400.00")
    credit_order(app, rated, "late", on=date(2026, 5, 3))


def test_c5_a_partly_paid_overdue_receivable_still_blocks(
    app: ChannelLedger, rated: str
) -> None:
    order_id = credit_order(app, rated, "c1", qty=2)
    app.ship_order(order_id, date(2026, 4, 2))
    app.deliver_order(order_id, date(2026, 4, 2))
    app.record_payment(order_id, date(2026, 4, 20), "1399.99")
    refused(app, "C5", app.place_order, rated, "late", date(2026, 5, 3), "east", "credit",
            [line()])


def test_c5_the_overdue_days_come_from_the_policy() -> None:
    app = memory_app(policy_with(overdue_days=10))
    publish_prices(app)
    dealer_id = rated_dealer(app)
    order_id = credit_order(app, dealer_id, "c1")
    app.ship_order(order_id, date(2026, 4, 2))
    app.deliver_order(order_id, date(2026, 4, 2))
    refused(app, "C5", app.place_order, dealer_id, "late", date(2026, 4, 13), "east", "credit",
            [line()])


# --- C3 invariant under any sequence of commands ---------------------------------------------

OPERATIONS = st.one_of(
    st.tuples(st.just("place"), st.integers(1, 6), st.integers(0, 0)),
    st.tuples(st.sampled_from(["ship", "deliver", "cancel"]), st.integers(0, 7),
              st.integers(0, 0)),
    st.tuples(st.just("pay"), st.integers(0, 7), st.integers(1, 2100)),
    st.tuples(st.just("return"), st.integers(0, 7), st.integers(1, 3)),
)


def expected_exposure(app: ChannelLedger, order_ids: list[str]) -> tuple[Decimal, Decimal]:
    """C3 from the orders themselves: confirmed but undelivered credit orders are reserved
    (less what was paid), delivered ones are receivable (less returns and payments)."""
    reserved = receivable = Decimal("0.00")
    for order_id in order_ids:
        order = app.get_order(order_id)
        if order.status in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED):
            reserved += max(order.total - order.paid, Decimal(0))
        elif order.status in (OrderStatus.DELIVERED, OrderStatus.PAID):
            receivable += max(order.outstanding, Decimal(0))
    return reserved, receivable


@settings(max_examples=40, deadline=None)
@given(st.lists(OPERATIONS, min_size=1, max_size=14))
def test_c3_exposure_matches_the_orders_and_stays_within_the_limit(
    operations: list[tuple[str, int, int]],
) -> None:
    app = memory_app()
    publish_prices(app)
    dealer_id = rated_dealer(app)
    order_ids: list[str] = []
    day = date(2026, 4, 2)
    for step, (kind, number, amount) in enumerate(operations):
        target = order_ids[number % len(order_ids)] if order_ids else None
        call: Any
        if kind == "place":
            call = partial(app.place_order, dealer_id, f"s{step}", day, "east", "credit",
                           [line(qty=number)])
        elif target is None:
            continue
        elif kind == "ship":
            call = partial(app.ship_order, target, day)
        elif kind == "deliver":
            call = partial(app.deliver_order, target, day)
        elif kind == "cancel":
            call = partial(app.cancel_order, target, "", day)
        elif kind == "pay":
            call = partial(app.record_payment, target, day, Decimal(amount))
        else:
            call = partial(app.return_order_lines, target, day, [{"sku": "ROUTER", "qty": amount}])
        before = app.recorder.max_notification_id()
        try:
            done = call()
        except ChannelError:
            assert app.recorder.max_notification_id() == before  # a refusal writes nothing
        else:
            if kind == "place":
                order_ids.append(str(done.value.id))
        credit = app.get_credit_line(dealer_id)
        assert (credit.reserved_total, credit.receivable_total) == expected_exposure(
            app, order_ids
        )
        assert credit.reserved_total + credit.receivable_total <= credit.limit
        assert credit.available == credit.limit - credit.reserved_total - credit.receivable_total
