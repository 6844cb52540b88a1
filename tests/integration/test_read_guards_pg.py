"""Commands that decide on an aggregate they do not change (the calendar for O6, the dealer for
D7/O2) must not commit after that aggregate moved on: raced on PostgreSQL, the later writer is
refused or decides again on fresh state — never a delivery recorded after its month's close."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.errors import RuleViolationError
from domain.values import Month
from services.application import ChannelLedger
from tests.builders import FORMAL_ON, app_for_url, notifications, onboard, place, publish_prices
from tests.integration.test_concurrency_pg import race

ROUNDS = 10


@pytest.fixture
def apps(pg_url: str) -> Iterator[tuple[ChannelLedger, ChannelLedger, ChannelLedger]]:
    trio = (app_for_url(pg_url), app_for_url(pg_url), app_for_url(pg_url))
    yield trio
    for app in trio:
        app.close()


def position_of(app: ChannelLedger, topic_suffix: str, originator: object) -> int | None:
    for n in notifications(app):
        if n.topic.endswith(topic_suffix) and n.originator_id == originator:
            return n.id
    return None


def test_o6_a_delivery_racing_its_months_close_is_never_recorded_after_the_close(
    apps: tuple[ChannelLedger, ChannelLedger, ChannelLedger],
) -> None:
    app, one, two = apps
    publish_prices(app)
    dealer = onboard(app, "forecast")
    app.sign_formal_agreement(dealer, FORMAL_ON, "1000", 48)
    outcomes = {"delivered first": 0, "refused by the close": 0}
    for k in range(ROUNDS):
        month = Month(2026, 1).plus(k)
        order = place(app, dealer, f"o{k}", on=month.first_day.replace(day=10))
        app.record_payment(order, month.first_day.replace(day=10), "700.00")
        app.ship_order(order, month.first_day.replace(day=10))
        delivered, closed = race(
            [
                lambda o=order, m=month: one.deliver_order(o, m.last_day),
                lambda m=month: two.close_period(m, m.last_day),
            ]
        )
        assert not isinstance(closed, Exception), closed
        close_at = max(n.id for n in notifications(app) if n.topic.endswith("MonthClosed"))
        if isinstance(delivered, Exception):
            assert isinstance(delivered, RuleViolationError) and delivered.rule == "O6"
            outcomes["refused by the close"] += 1
        else:
            delivered_at = position_of(app, "Order.Delivered", app.get_order(order).id)
            assert delivered_at is not None and delivered_at < close_at
            outcomes["delivered first"] += 1
    assert sum(outcomes.values()) == ROUNDS


def test_d7_an_order_racing_the_dealers_termination_is_placed_before_it_or_refused(
    apps: tuple[ChannelLedger, ChannelLedger, ChannelLedger],
) -> None:
    app, one, two = apps
    publish_prices(app)
    for k in range(ROUNDS):
        dealer = onboard(app, "active")
        placed, terminated = race(
            [
                lambda d=dealer, k=k: place(one, d, f"race-{k}"),
                lambda d=dealer: two.terminate_dealer(d, FORMAL_ON.replace(month=3), "left"),
            ]
        )
        assert not isinstance(terminated, Exception), terminated
        terminated_at = position_of(app, "Dealer.Terminated", app.get_dealer(dealer).id)
        assert terminated_at is not None
        if isinstance(placed, Exception):
            assert isinstance(placed, RuleViolationError) and placed.rule == "O2"
        else:
            placed_at = position_of(app, "Order.Placed", app.get_order(placed).id)
            assert placed_at is not None and placed_at < terminated_at
