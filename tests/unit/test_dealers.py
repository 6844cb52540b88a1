"""Rules D1–D8 on the write side: registration, the onboarding order, seats, tier changes,
incidents, termination and reassignment (in-memory store, no I/O)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.dealer import DealerStatus
from domain.errors import InvalidInputError, NotFoundError
from domain.values import Tier
from services.application import ChannelLedger
from tests.builders import (
    FIRST_ORDER_ON,
    FORECAST,
    FORMAL_ON,
    REGISTERED_ON,
    memory_app,
    onboard,
    place,
    publish_prices,
    refused,
    register,
    small_seats,
)


@pytest.fixture
def app() -> ChannelLedger:
    ledger = memory_app(small_seats(a=2, aa=3))
    publish_prices(ledger)
    return ledger


# --- D1 --------------------------------------------------------------------------------------


def test_d1_registration_records_the_form(app: ChannelLedger) -> None:
    done = app.register_dealer("Acme", "east", "AA", "alice", "acme@example.com", REGISTERED_ON)
    dealer = app.get_dealer(str(done.value.id))
    assert (dealer.name, dealer.region, dealer.tier, dealer.salesperson, dealer.contact) == (
        "Acme", "east", Tier.AA, "alice", "acme@example.com"
    )
    assert dealer.status == DealerStatus.REGISTERED
    assert done.created and done.position == app.recorder.max_notification_id()


@pytest.mark.parametrize("field", ["name", "region", "salesperson", "contact"])
def test_d1_registration_without_a_field_is_refused_naming_it(
    app: ChannelLedger, field: str
) -> None:
    form = {"name": "Acme", "region": "east", "tier": "A", "salesperson": "alice",
            "contact": "acme@example.com", "registered_on": REGISTERED_ON}
    form[field] = "  "
    error = refused(app, None, app.register_dealer, error=InvalidInputError, **form)
    assert error.field == field


def test_d1_registration_with_an_unknown_tier_is_refused(app: ChannelLedger) -> None:
    error = refused(app, None, app.register_dealer, "Acme", "east", "AAA", "alice", "c",
                    REGISTERED_ON, error=InvalidInputError)
    assert error.field == "tier"


# --- D2 --------------------------------------------------------------------------------------


def test_d2_onboarding_steps_in_order_reach_a_signed_agreement(app: ChannelLedger) -> None:
    dealer_id = register(app)
    app.sign_draft_agreement(dealer_id, date(2026, 1, 3))
    assert app.get_dealer(dealer_id).status == DealerStatus.DRAFT_SIGNED
    app.submit_forecast(dealer_id, FORECAST)
    assert app.get_dealer(dealer_id).status == DealerStatus.FORECAST_SUBMITTED
    app.sign_formal_agreement(dealer_id, FORMAL_ON, "10000", 12)
    dealer = app.get_dealer(dealer_id)
    assert dealer.status == DealerStatus.SIGNED
    assert dealer.agreement is not None
    assert dealer.agreement["monthly_amount"] == Decimal("10000")
    assert dealer.agreement["tier"] == "A" and dealer.agreement["region"] == "east"
    assert dealer.agreement["start_month"] is None  # D3: not in effect before the first order


def test_d2_forecast_before_the_draft_agreement_is_refused(app: ChannelLedger) -> None:
    dealer_id = register(app)
    refused(app, "D2", app.submit_forecast, dealer_id, FORECAST)


def test_d2_formal_agreement_before_the_draft_is_refused(app: ChannelLedger) -> None:
    dealer_id = register(app)
    refused(app, "D2", app.sign_formal_agreement, dealer_id, FORMAL_ON, "10000", 12)


def test_d2_formal_agreement_before_the_forecast_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "draft")
    refused(app, "D2", app.sign_formal_agreement, dealer_id, FORMAL_ON, "10000", 12)


def test_d2_first_order_before_the_formal_agreement_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "forecast")
    refused(app, "O2", app.place_order, dealer_id, "r1", FIRST_ORDER_ON, "east", "prepaid",
            [{"sku": "ROUTER", "qty": 1}])


def test_d2_a_step_done_twice_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    refused(app, "D2", app.sign_draft_agreement, dealer_id, FORMAL_ON)
    refused(app, "D2", app.sign_formal_agreement, dealer_id, FORMAL_ON, "10000", 12)


def test_d2_forecast_shorter_than_the_policy_months_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "draft")
    error = refused(app, "D2", app.submit_forecast, dealer_id, FORECAST[:2])
    assert error.field == "months"


def test_d2_forecast_with_a_gap_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "draft")
    months = [("2026-01", "1"), ("2026-02", "1"), ("2026-04", "1")]
    refused(app, "D2", app.submit_forecast, dealer_id, months)


def test_d2_forecast_for_months_before_the_draft_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "draft")
    months = [("2025-12", "1"), ("2026-01", "1"), ("2026-02", "1")]
    refused(app, "D2", app.submit_forecast, dealer_id, months)


def test_d2_forecast_with_a_negative_amount_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "draft")
    months = [("2026-01", "1"), ("2026-02", "-1"), ("2026-03", "1")]
    refused(app, None, app.submit_forecast, dealer_id, months, error=InvalidInputError)


def test_d2_formal_agreement_dated_before_the_draft_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "forecast")
    error = refused(app, "D2", app.sign_formal_agreement, dealer_id, date(2026, 1, 2), "1", 12)
    assert error.field == "signed_on"


@pytest.mark.parametrize(
    ("amount", "term", "field"),
    [("0", 12, "monthly_amount"), ("100", 0, "term_months"), ("ten", 12, "monthly_amount"),
     (10000.0, 12, "monthly_amount"), ("100", "a year", "term_months"), ("100", 1.5, "term_months")],
)
def test_d2_formal_agreement_needs_a_positive_amount_and_term(
    app: ChannelLedger, amount: object, term: object, field: str
) -> None:
    dealer_id = onboard(app, "forecast")
    error = refused(app, None, app.sign_formal_agreement, dealer_id, FORMAL_ON, amount, term,
                    error=InvalidInputError)
    assert error.field == field


def test_d2_industry_customers_skip_the_agreement_and_order_at_list_price(
    app: ChannelLedger,
) -> None:
    customer = register(app, tier="END")
    refused(app, "D2", app.sign_draft_agreement, customer, date(2026, 1, 3))
    order = app.get_order(place(app, customer, "r1"))
    assert order.lines[0].unit_price == Decimal("1000.00")
    refused(app, "O4", app.place_order, customer, "r2", FIRST_ORDER_ON, "east", "credit",
            [{"sku": "ROUTER", "qty": 1}])


# --- D3 --------------------------------------------------------------------------------------


def test_d3_agreement_takes_effect_with_first_order(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    place(app, dealer_id, "first", on=date(2026, 2, 14))
    dealer = app.get_dealer(dealer_id)
    assert dealer.status == DealerStatus.ACTIVE
    assert dealer.agreement is not None and dealer.agreement["start_month"] == "2026-02"
    assert dealer.first_order_id is not None


def test_d3_an_order_awaiting_approval_does_not_put_the_agreement_into_effect(
    app: ChannelLedger,
) -> None:
    dealer_id = onboard(app, "signed")
    order_id = place(app, dealer_id, "cross", on=date(2026, 2, 20), region="west")
    assert app.get_dealer(dealer_id).status == DealerStatus.SIGNED
    # Approved in March: the start month is still the order's month (February).
    app.decide_order(order_id, True, "ok", date(2026, 3, 2))
    dealer = app.get_dealer(dealer_id)
    assert dealer.status == DealerStatus.ACTIVE
    assert dealer.agreement is not None and dealer.agreement["start_month"] == "2026-02"
    assert dealer.first_order_id == order_id


def test_d3_later_orders_leave_the_start_month_alone(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "active")
    first = app.get_dealer(dealer_id).first_order_id
    place(app, dealer_id, "second", on=date(2026, 3, 1))
    dealer = app.get_dealer(dealer_id)
    assert dealer.agreement is not None and dealer.agreement["start_month"] == "2026-01"
    assert dealer.first_order_id == first


# --- D4 --------------------------------------------------------------------------------------


def test_d4_formal_agreement_takes_a_seat(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    assert app.get_roster().seats == {dealer_id: "A"}


def test_d4_agreement_beyond_the_seat_limit_is_refused(app: ChannelLedger) -> None:
    onboard(app, "signed", name="first")
    onboard(app, "signed", name="second")
    third = onboard(app, "forecast", name="third")
    error = refused(app, "D4", app.sign_formal_agreement, third, FORMAL_ON, "10000", 12)
    assert "2" in error.message
    assert app.get_dealer(third).status == DealerStatus.FORECAST_SUBMITTED
    assert app.get_roster().seats_taken(Tier.A) == 2


def test_d4_the_limit_of_each_tier_is_separate(app: ChannelLedger) -> None:
    for i in range(2):
        onboard(app, "signed", tier="A", name=f"a{i}")
    for i in range(3):
        onboard(app, "signed", tier="AA", name=f"aa{i}")
    onboard(app, "signed", tier="SI", name="si")  # SI has no seat limit
    late_aa = onboard(app, "forecast", tier="AA", name="aa-late")
    refused(app, "D4", app.sign_formal_agreement, late_aa, FORMAL_ON, "10000", 12)
    roster = app.get_roster()
    assert (roster.seats_taken(Tier.A), roster.seats_taken(Tier.AA)) == (2, 3)
    assert roster.seats_taken(Tier.SI) == 0


def test_d4_termination_frees_the_seat(app: ChannelLedger) -> None:
    first = onboard(app, "signed", name="first")
    onboard(app, "signed", name="second")
    third = onboard(app, "forecast", name="third")
    app.terminate_dealer(first, date(2026, 2, 1), "left the channel")
    app.sign_formal_agreement(third, date(2026, 2, 2), "10000", 12)
    seats = app.get_roster().seats
    assert first not in seats and seats[third] == "A" and len(seats) == 2


def test_d4_seats_come_from_the_policy_in_force() -> None:
    # The default policy (20 A seats) versus the fixture's 2: the limit follows the policy.
    roomy = memory_app()
    publish_prices(roomy)
    for i in range(3):
        onboard(roomy, "signed", name=f"a{i}")
    assert roomy.get_roster().seats_taken(Tier.A) == 3


# --- D6 --------------------------------------------------------------------------------------


def test_d6_tier_change_is_recorded_with_its_reason_and_moves_the_seat(
    app: ChannelLedger,
) -> None:
    dealer_id = onboard(app, "active", tier="AA")
    app.change_tier(dealer_id, "A", "steps up for the region", date(2026, 3, 1))
    dealer = app.get_dealer(dealer_id)
    assert dealer.tier == Tier.A
    assert dealer.tier_on(date(2026, 2, 28)) == Tier.AA
    assert dealer.tier_on(date(2026, 3, 1)) == Tier.A
    assert app.get_roster().seats == {dealer_id: "A"}
    changed = [n for n in app.recorder.select_notifications(start=1, limit=1000)
               if n.topic.endswith("Dealer.TierChanged")]
    assert len(changed) == 1 and b"steps up for the region" in bytes(changed[0].state)


def test_d6_promotion_into_a_full_tier_is_refused(app: ChannelLedger) -> None:
    onboard(app, "signed", name="a1")
    onboard(app, "signed", name="a2")
    aa = onboard(app, "signed", tier="AA", name="aa")
    refused(app, "D4", app.change_tier, aa, "A", "promotion", date(2026, 3, 1))
    assert app.get_dealer(aa).tier == Tier.AA
    assert app.get_roster().seats[aa] == "AA"


def test_d6_demotion_frees_the_seat_for_another_dealer(app: ChannelLedger) -> None:
    a1 = onboard(app, "signed", name="a1")
    onboard(app, "signed", name="a2")
    waiting = onboard(app, "forecast", name="a3")
    app.change_tier(a1, "SI", "missed its targets", date(2026, 3, 1))
    app.sign_formal_agreement(waiting, date(2026, 3, 2), "10000", 12)
    roster = app.get_roster()
    assert roster.seats_taken(Tier.A) == 2 and a1 not in roster.seats


def test_d6_tier_change_needs_a_reason(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed", tier="AA")
    error = refused(app, None, app.change_tier, dealer_id, "A", " ", date(2026, 3, 1),
                    error=InvalidInputError)
    assert error.field == "reason"


def test_d6_change_to_the_same_tier_or_to_end_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed", tier="AA")
    refused(app, "D6", app.change_tier, dealer_id, "AA", "again", date(2026, 3, 1))
    refused(app, "D6", app.change_tier, dealer_id, "END", "customer", date(2026, 3, 1))


def test_d6_tier_change_dated_before_the_last_one_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed", tier="AA")
    app.change_tier(dealer_id, "SI", "first", date(2026, 3, 1))
    refused(app, "D6", app.change_tier, dealer_id, "AA", "back", date(2026, 2, 1))


# --- D7 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["violation", "bad_debt", "dispute"])
def test_d7_incidents_are_recorded_with_their_date(app: ChannelLedger, kind: str) -> None:
    dealer_id = onboard(app, "active")
    app.record_incident(dealer_id, kind, date(2026, 2, 3), "seen")
    assert app.get_dealer(dealer_id).incidents == [
        {"kind": kind, "occurred_on": date(2026, 2, 3), "note": "seen"}
    ]


def test_d7_an_unknown_incident_kind_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "active")
    error = refused(app, None, app.record_incident, dealer_id, "rudeness", date(2026, 2, 3),
                    error=InvalidInputError)
    assert error.field == "kind"


def test_d7_an_incident_before_registration_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "active")
    refused(app, "D7", app.record_incident, dealer_id, "dispute", date(2025, 12, 1))


def test_d7_terminated_dealer_cannot_order(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "active")
    app.terminate_dealer(dealer_id, date(2026, 2, 1), "malicious bad debt")
    refused(app, "O2", app.place_order, dealer_id, "after", date(2026, 2, 2), "east", "prepaid",
            [{"sku": "ROUTER", "qty": 1}])


def test_d7_a_terminated_dealer_takes_no_further_step(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed", tier="AA")
    app.terminate_dealer(dealer_id, date(2026, 2, 1), "violation")
    assert app.get_dealer(dealer_id).status == DealerStatus.TERMINATED
    refused(app, "D7", app.terminate_dealer, dealer_id, date(2026, 2, 2), "again")
    refused(app, "D7", app.change_tier, dealer_id, "A", "promotion", date(2026, 2, 2))
    refused(app, "D7", app.reassign_salesperson, dealer_id, "bob", date(2026, 2, 2))


def test_d7_termination_needs_a_reason(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    error = refused(app, None, app.terminate_dealer, dealer_id, date(2026, 2, 1), "",
                    error=InvalidInputError)
    assert error.field == "reason"


# --- D8 --------------------------------------------------------------------------------------


def test_d8_sales_count_for_the_salesperson_who_owned_the_dealer_on_the_date(
    app: ChannelLedger,
) -> None:
    dealer_id = onboard(app, "active", salesperson="alice")
    app.reassign_salesperson(dealer_id, "bob", date(2026, 3, 1))
    app.reassign_salesperson(dealer_id, "carol", date(2026, 5, 1))
    dealer = app.get_dealer(dealer_id)
    assert dealer.salesperson == "carol"
    assert dealer.salesperson_on(date(2026, 2, 28)) == "alice"
    assert dealer.salesperson_on(date(2026, 3, 1)) == "bob"
    assert dealer.salesperson_on(date(2026, 4, 30)) == "bob"
    assert dealer.salesperson_on(date(2026, 5, 1)) == "carol"


def test_d8_reassignment_dated_before_the_last_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "active")
    app.reassign_salesperson(dealer_id, "bob", date(2026, 3, 1))
    error = refused(app, "D8", app.reassign_salesperson, dealer_id, "carol", date(2026, 2, 1))
    assert error.field == "effective_on"


def test_d8_reassignment_to_the_current_owner_or_nobody_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "active", salesperson="alice")
    refused(app, "D8", app.reassign_salesperson, dealer_id, "alice", date(2026, 3, 1))
    refused(app, None, app.reassign_salesperson, dealer_id, " ", date(2026, 3, 1),
            error=InvalidInputError)


def test_an_unknown_dealer_is_not_found(app: ChannelLedger) -> None:
    refused(app, None, app.sign_draft_agreement, "not-a-uuid", date(2026, 1, 3),
            error=NotFoundError)
    refused(app, None, app.sign_draft_agreement, "00000000-0000-0000-0000-000000000000",
            date(2026, 1, 3), error=NotFoundError)


def test_d2_draft_agreement_dated_before_registration_is_refused(app: ChannelLedger) -> None:
    dealer_id = register(app)
    error = refused(app, "D2", app.sign_draft_agreement, dealer_id, date(2026, 1, 1))
    assert error.field == "signed_on"


def test_d2_industry_customers_submit_no_forecast_and_sign_no_formal_agreement(
    app: ChannelLedger,
) -> None:
    customer = register(app, tier="END")
    refused(app, "D2", app.submit_forecast, customer, FORECAST)
    refused(app, "D2", app.sign_formal_agreement, customer, FORMAL_ON, "10000", 12)


def test_d2_a_forecast_naming_a_month_twice_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "draft")
    months = [("2026-01", "1"), ("2026-02", "1"), ("2026-02", "2"), ("2026-03", "1")]
    error = refused(app, "D2", app.submit_forecast, dealer_id, months)
    assert error.field == "months"


def test_d7_termination_dated_before_registration_is_refused(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    error = refused(app, "D7", app.terminate_dealer, dealer_id, date(2025, 12, 31), "never was")
    assert error.field == "terminated_on"
