"""The same write-side scenario on a SQLite file and on PostgreSQL: every rule family, refusals that
store nothing, and a second application instance that reads back the same state from the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import RuleViolationError
from domain.values import Tier
from services.application import ChannelLedger
from tests.builders import (
    app_for_url,
    fulfil,
    line,
    notifications,
    onboard,
    place,
    publish_prices,
    rated_dealer,
    refused,
    small_seats,
)

POLICY = small_seats(a=2, aa=3)


@pytest.fixture
def ledger(database_url: str) -> Iterator[ChannelLedger]:
    app = app_for_url(database_url, POLICY)
    yield app
    app.close()


def summary(app: ChannelLedger, names: dict[str, str]) -> dict[str, Any]:
    """What the scenario leaves behind, keyed by business names (dealer ids are random)."""
    roster = app.get_roster()
    dealers = {name: app.get_dealer(i) for name, i in names.items()}
    rated = app.get_credit_line(names["rated"])
    orders = {
        f"{name}/{ref}": (o.status.value, o.total, o.paid, o.returned_value)
        for name, dealer_id in names.items()
        for ref in ("first", "qualifying-0", "cross", "c1", "c2", "late")
        if (o := app.find_order(dealer_id, ref)) is not None
    }
    return {
        "dealers": {n: (d.status.value, d.tier.value, d.salesperson) for n, d in dealers.items()},
        "start_months": {n: d.agreement["start_month"] for n, d in dealers.items() if d.agreement},
        "seats": {t.value: roster.seats_taken(t) for t in (Tier.A, Tier.AA)},
        "repair_centres": {r: next(n for n, i in names.items() if i == d)
                           for r, d in roster.repair_centres.items()},
        "credit": (rated.status.value, rated.limit, rated.reserved_total, rated.receivable_total,
                   [e["failed_criteria"] for e in rated.evaluations]),
        "orders": orders,
        "pool": app.get_pool(names["rated"]).balance,
        "closed": app.get_calendar().closed_months,
        "prices": [v.number for v in app.get_price_list().versions],
        "events": app.recorder.max_notification_id(),
    }


EXPECTED: dict[str, Any] = {
    "dealers": {
        "rated": ("active", "A", "dora"),
        "west": ("terminated", "A", "alice"),
        "north": ("signed", "A", "alice"),
        "aa": ("active", "AA", "alice"),
    },
    "start_months": {"rated": "2026-01", "west": None, "north": None, "aa": "2026-01"},
    "seats": {"A": 2, "AA": 1},
    "repair_centres": {"east": "rated"},
    "credit": ("suspended", Decimal("10000.00"), Decimal("0.00"), Decimal("0.00"), [[]]),
    "orders": {
        "rated/qualifying-0": ("paid", Decimal("10500.00"), Decimal("10500.00"), Decimal("0.00")),
        "rated/c1": ("paid", Decimal("2800.00"), Decimal("2100.00"), Decimal("700.00")),
        "rated/c2": ("cancelled", Decimal("700.00"), Decimal("0.00"), Decimal("0.00")),
        "aa/first": ("confirmed", Decimal("780.00"), Decimal("0.00"), Decimal("0.00")),
        "aa/cross": ("confirmed", Decimal("1560.00"), Decimal("0.00"), Decimal("0.00")),
    },
    "pool": Decimal("300.00"),
    "closed": ["2026-01", "2026-02", "2026-03"],
    "prices": [1, 2],
    # with one LogSeal part saved by each of the three closes (audit verify) and the store's first
    # policy version (Policy.Opened, Policy.VersionPublished: R4)
    "events": 83,
}


def run_scenario(app: ChannelLedger) -> dict[str, str]:
    publish_prices(app)
    publish_prices(app, date(2026, 6, 1), [{"sku": "ROUTER", "list_price": "1100.00",
                                           "floor_price": "600.00"}])
    names = {"rated": rated_dealer(app)}  # A east, Jan–Mar orders, rated on Apr 1 (C2, C3)
    names["west"] = onboard(app, "signed", region="west", name="west")
    names["north"] = onboard(app, "forecast", region="north", name="north")
    names["aa"] = onboard(app, "active", tier="AA", name="aa")

    # D4: the third A agreement is refused while two seats are held.
    refused(app, "D4", app.sign_formal_agreement, names["north"], date(2026, 1, 6), "5000", 12)

    # O1: the same order twice is one order; D9: a cross-region order waits for approval.
    first = app.place_order(names["aa"], "cross", date(2026, 2, 1), "west", "prepaid",
                            [line(qty=2)])
    again = app.place_order(names["aa"], "cross", date(2026, 2, 1), "west", "prepaid",
                            [line(qty=2)])
    assert (again.value.id, again.created, again.position) == (first.value.id, False, None)
    app.decide_order(str(first.value.id), True, "region manager agrees", date(2026, 2, 2))

    # Fulfil the rated dealer's first qualifying order in January, then close Q1's months.
    qualifying = app.find_order(names["rated"], "qualifying-0")
    assert qualifying is not None
    fulfil(app, str(qualifying.id), date(2026, 1, 20))
    for month, closed_on in (("2026-01", date(2026, 2, 1)), ("2026-02", date(2026, 3, 1)),
                             ("2026-03", date(2026, 4, 1))):
        app.close_period(month, closed_on)
    refused(app, "O6", app.close_period, "2026-05", date(2026, 6, 1))

    # C3: a credit order reserves, delivery books a receivable, returns and payments settle it.
    c1 = place(app, names["rated"], "c1", on=date(2026, 4, 2), payment="credit",
               lines=[line(qty=4)])
    refused(app, "C3", app.place_order, names["rated"], "big", date(2026, 4, 2), "east",
            "credit", [line(qty=11)])
    c2 = place(app, names["rated"], "c2", on=date(2026, 4, 2), payment="credit")
    app.cancel_order(c2, "not needed", date(2026, 4, 3))
    app.ship_order(c1, date(2026, 4, 3))
    refused(app, "O6", app.deliver_order, c1, date(2026, 3, 31))  # March is closed
    app.deliver_order(c1, date(2026, 4, 4))
    app.return_order_lines(c1, date(2026, 4, 6), [{"sku": "ROUTER", "qty": 1}])
    app.record_payment(c1, date(2026, 4, 7), "1000.00")
    app.record_payment(c1, date(2026, 4, 8), "1100.00")

    # S1, S3: the repair centre's pool, funded for March, draws within its balance.
    app.authorize_repair_centre(names["rated"], date(2026, 4, 1))
    refused(app, "S1", app.authorize_repair_centre, names["aa"], date(2026, 4, 1))
    app.allocate_spare_parts(names["rated"], "east", "2026-03", Decimal("50000"),
                             Decimal("500.00"), "2026.1")
    app.draw_spare_parts(names["rated"], date(2026, 4, 9), "fan", 4, "200.00")
    refused(app, "S3", app.draw_spare_parts, names["rated"], date(2026, 4, 9), "board", 1,
            "300.01")

    # D8, C4, D7, D4: reassignment, suspension, termination freeing a seat.
    app.reassign_salesperson(names["rated"], "dora", date(2026, 4, 10))
    app.record_incident(names["rated"], "dispute", date(2026, 4, 11), "billing")
    refused(app, "O4", app.place_order, names["rated"], "late", date(2026, 4, 12), "east",
            "credit", [line()])
    app.terminate_dealer(names["west"], date(2026, 4, 12), "left the channel")
    refused(app, "O2", app.place_order, names["west"], "late", date(2026, 4, 13), "west",
            "prepaid", [line()])
    app.sign_formal_agreement(names["north"], date(2026, 4, 13), "5000", 12)
    return names


def test_the_write_side_scenario_gives_the_same_state_on_each_database(
    ledger: ChannelLedger, database_url: str
) -> None:
    names = run_scenario(ledger)
    assert summary(ledger, names) == EXPECTED
    # A second application on the same store reads back the same state and the same log.
    reader = app_for_url(database_url, POLICY)
    try:
        assert summary(reader, names) == EXPECTED
        assert notifications(reader) == notifications(ledger)
        signed = [n for n in notifications(reader) if n.topic.endswith(".FormalAgreementSigned")]
        event = reader.mapper.to_domain_event(signed[-1])
        assert event.signed_on == date(2026, 4, 13)  # type: ignore[attr-defined]
        assert event.monthly_amount == Decimal("5000")  # type: ignore[attr-defined]
    finally:
        reader.close()


def test_a_refused_command_stores_nothing_on_each_database(ledger: ChannelLedger) -> None:
    publish_prices(ledger)
    dealer_id = onboard(ledger, "signed")
    before = notifications(ledger)
    with pytest.raises(RuleViolationError) as caught:
        ledger.place_order(dealer_id, "low", date(2026, 1, 10), "east", "prepaid",
                           [line("SWITCH"), line(unit_price="1.00")])
    assert caught.value.rule == "P3"
    assert notifications(ledger) == before
    # The refusal left no half-written order behind: the client_ref is still free.
    assert ledger.find_order(dealer_id, "low") is None
    place(ledger, dealer_id, "low")
