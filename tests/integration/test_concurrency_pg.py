"""Concurrent requests on PostgreSQL, with threads: D4 seats, racing decisions on one order,
credit reservations within the limit (C3) and idempotent placement (O1). Optimistic concurrency
must keep every invariant; the loser of a race gets a clean refusal."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from domain.dealer import DealerStatus
from domain.errors import ChannelError, RuleViolationError
from domain.order import OrderStatus
from domain.policy import PolicyBook
from domain.values import Tier
from services.application import ChannelLedger
from tests.builders import (
    FORMAL_ON,
    POLICY,
    app_for_url,
    line,
    notifications,
    onboard,
    place,
    publish_prices,
    rated_dealer,
    small_seats,
)

APR = date(2026, 4, 2)


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released at the same instant; each result or the exception it
    raised, in the order of `calls`."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # the outcome under test, refusal or not
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racing command never returned"
    return results


def refusals(results: list[Any]) -> list[ChannelError]:
    unexpected = [r for r in results if isinstance(r, Exception) and
                  not isinstance(r, ChannelError)]
    assert not unexpected, f"unclean failures: {unexpected!r}"
    return [r for r in results if isinstance(r, ChannelError)]


class Apps:
    """Application instances on one schema, as separate request-handling processes would hold."""

    def __init__(self, url: str, policy: PolicyBook) -> None:
        self.url, self.policy = url, policy
        self.opened: list[ChannelLedger] = []

    def new(self) -> ChannelLedger:
        app = app_for_url(self.url, self.policy, command_attempts=60)
        self.opened.append(app)
        return app

    def close(self) -> None:
        for app in self.opened:
            app.close()


@pytest.fixture
def apps(pg_url: str) -> Iterator[Apps]:
    made = Apps(pg_url, POLICY)
    yield made
    made.close()


@pytest.fixture
def small_apps(pg_url: str) -> Iterator[Apps]:
    made = Apps(pg_url, small_seats(a=3, aa=3))
    yield made
    made.close()


# --- D4 --------------------------------------------------------------------------------------


def test_d4_the_20th_and_21st_a_agreements_signed_at_once_leave_20_seats(apps: Apps) -> None:
    app = apps.new()
    limit = POLICY.in_force(FORMAL_ON).seat_limit(Tier.A)
    assert limit == 20  # the real number of RULES.md D4, from the default policy
    for i in range(limit - 1):
        onboard(app, "signed", name=f"a{i}")
    twentieth = onboard(app, "forecast", name="twentieth")
    twenty_first = onboard(app, "forecast", name="twenty-first")
    one, two = apps.new(), apps.new()  # two requests served by two processes
    results = race([
        partial(one.sign_formal_agreement, twentieth, FORMAL_ON, "10000", 12),
        partial(two.sign_formal_agreement, twenty_first, FORMAL_ON, "10000", 12),
    ])
    [refusal] = refusals(results)
    assert isinstance(refusal, RuleViolationError) and refusal.rule == "D4"
    roster = app.get_roster()
    assert roster.seats_taken(Tier.A) == limit
    signed = [d for d in (twentieth, twenty_first)
              if app.get_dealer(d).status == DealerStatus.SIGNED]
    assert len(signed) == 1 and signed[0] in roster.seats


def test_d4_many_threads_racing_for_few_seats_take_exactly_the_limit(small_apps: Apps) -> None:
    app = small_apps.new()
    dealers = [onboard(app, "forecast", name=f"d{i}") for i in range(8)]
    shared = small_apps.new()  # one process, many request threads
    results = race([
        partial(shared.sign_formal_agreement, d, FORMAL_ON, "10000", 12) for d in dealers
    ])
    refused = refusals(results)
    assert len(refused) == 5 and {(type(r), r.rule) for r in refused} == {
        (RuleViolationError, "D4")
    }
    roster = app.get_roster()
    winners = {d for d, r in zip(dealers, results, strict=True)
               if not isinstance(r, Exception)}
    assert set(roster.seats) == winners and roster.seats_taken(Tier.A) == 3
    assert {d for d in dealers if app.get_dealer(d).holds_seat} == winners


# --- O3: two managers on one order -------------------------------------------------------------


@pytest.fixture
def credit_setup(apps: Apps) -> tuple[ChannelLedger, str]:
    app = apps.new()
    publish_prices(app)
    return app, rated_dealer(app)


def awaiting(app: ChannelLedger, dealer_id: str, ref: str) -> str:
    """A credit order that waits for the region manager (D9): shipped to another region."""
    return place(app, dealer_id, ref, on=APR, payment="credit", region="west",
                 lines=[line(qty=2)])


def test_o3_two_managers_deciding_one_order_at_once_one_wins(
    apps: Apps, credit_setup: tuple[ChannelLedger, str]
) -> None:
    app, dealer_id = credit_setup
    one, two = apps.new(), apps.new()
    outcomes = set()
    for round_ in range(6):
        order_id = awaiting(app, dealer_id, f"decide-{round_}")
        results = race([
            partial(one.decide_order, order_id, True, "approve", APR),
            partial(two.decide_order, order_id, False, "reject", APR),
        ])
        [refusal] = refusals(results)
        assert isinstance(refusal, RuleViolationError) and refusal.rule == "P3"
        order = app.get_order(order_id)
        approved = not isinstance(results[0], Exception)
        outcomes.add(approved)
        assert order.status == (OrderStatus.CONFIRMED if approved else OrderStatus.REJECTED)
        assert (order_id in app.get_credit_line(dealer_id).reserved) == approved
    credit = app.get_credit_line(dealer_id)
    assert credit.reserved_total == sum(
        (app.get_order(o).total for o in credit.reserved), Decimal("0.00")
    )


def test_o3_approving_and_cancelling_one_order_at_once_stays_consistent(
    apps: Apps, credit_setup: tuple[ChannelLedger, str]
) -> None:
    """Either the cancellation wins and the approval is refused, or the approval wins and the
    cancellation, retried on the fresh state, cancels the confirmed order (cancel is possible
    until shipped, O3). Never a confirmed order without its reservation or a cancelled one
    holding credit."""
    app, dealer_id = credit_setup
    one, two = apps.new(), apps.new()
    for round_ in range(6):
        order_id = awaiting(app, dealer_id, f"cancel-{round_}")
        results = race([
            partial(one.decide_order, order_id, True, "approve", APR),
            partial(two.cancel_order, order_id, "no longer needed", APR),
        ])
        refused = refusals(results)
        assert not isinstance(results[1], Exception), "a cancel before shipping is never refused"
        order = app.get_order(order_id)
        assert order.status == OrderStatus.CANCELLED
        assert order.cancellation is not None
        if refused:
            [refusal] = refused
            assert isinstance(refusal, RuleViolationError) and refusal.rule == "P3"
            assert order.cancellation["was"] == "awaiting_approval"
            assert order.decision is None
        else:
            assert order.cancellation["was"] == "confirmed"
        assert order_id not in app.get_credit_line(dealer_id).reserved
        assert str(order.id) not in app.get_dealer(dealer_id).qualifying_orders
    assert app.get_credit_line(dealer_id).available == app.get_credit_line(dealer_id).limit


# --- C3 --------------------------------------------------------------------------------------


def test_c3_concurrent_credit_orders_never_exceed_the_limit(
    apps: Apps, credit_setup: tuple[ChannelLedger, str]
) -> None:
    app, dealer_id = credit_setup
    limit = app.get_credit_line(dealer_id).limit  # 10,000.00; each order is 3 × 700 = 2,100
    clients = [apps.new() for _ in range(3)]
    results = race([
        partial(clients[i % 3].place_order, dealer_id, f"c{i}", APR, "east", "credit",
                [line(qty=3)])
        for i in range(7)
    ])
    refused = refusals(results)
    assert len(refused) == 3 and {r.rule for r in refused} == {"C3"}
    credit = app.get_credit_line(dealer_id)
    placed = [r.value for r in results if not isinstance(r, Exception)]
    assert credit.reserved_total == Decimal("8400.00") <= limit
    assert set(credit.reserved) == {str(o.id) for o in placed}
    refused_refs = {f"c{i}" for i, r in enumerate(results) if isinstance(r, Exception)}
    assert all(app.find_order(dealer_id, ref) is None for ref in refused_refs)


# --- O1 --------------------------------------------------------------------------------------


def test_o1_one_order_placed_by_two_threads_at_once_is_one_order(apps: Apps) -> None:
    app = apps.new()
    publish_prices(app)
    dealer_id = onboard(app, "active")
    one, two = apps.new(), apps.new()
    for round_ in range(5):
        ref = f"twice-{round_}"
        results = race([
            partial(c.place_order, dealer_id, ref, APR, "east", "prepaid", [line(qty=2)])
            for c in (one, two)
        ])
        assert not refusals(results)
        assert results[0].value.id == results[1].value.id
        assert sorted(r.created for r in results) == [False, True]
        placed = [n for n in notifications(app)
                  if n.originator_id == results[0].value.id and n.topic.endswith(".Placed")]
        assert len(placed) == 1
    assert app.get_dealer(dealer_id).first_order_id is not None


# --- S1 --------------------------------------------------------------------------------------


def test_s1_two_dealers_of_one_region_authorized_at_once_leave_one_repair_centre(
    apps: Apps,
) -> None:
    app = apps.new()
    publish_prices(app)
    first = onboard(app, "active", region="east", name="first")
    second = onboard(app, "active", region="east", name="second")
    one, two = apps.new(), apps.new()
    results = race([
        partial(one.authorize_repair_centre, first, APR),
        partial(two.authorize_repair_centre, second, APR),
    ])
    [refusal] = refusals(results)
    assert isinstance(refusal, RuleViolationError) and refusal.rule == "S1"
    winner = first if not isinstance(results[0], Exception) else second
    loser = second if winner == first else first
    assert app.get_roster().repair_centres == {"east": winner}
    assert app.get_dealer(loser).repair_centre_since is None
    opened = [n for n in notifications(app) if n.topic.endswith("SparePartsPool.Opened")]
    assert [n.originator_id for n in opened] == [app.get_pool(winner).id]
