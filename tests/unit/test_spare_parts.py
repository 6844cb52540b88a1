"""Rules S1 and S3 (and S2's once-per-month allocation): repair centres, their spare-parts pools
and draws within the balance (in-memory store)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import InvalidInputError, NotFoundError
from domain.ids import NATIONAL_POOL
from services.application import ChannelLedger
from tests.builders import memory_app, onboard, publish_prices, refused

SIGNED_ON = date(2026, 1, 20)


@pytest.fixture
def centre(app: ChannelLedger) -> str:
    dealer_id = onboard(app, "active", region="east", name="centre")
    app.authorize_repair_centre(dealer_id, SIGNED_ON)
    return dealer_id


def fund(app: ChannelLedger, pool: str, month: str, amount: str, region: str = "east") -> None:
    app.allocate_spare_parts(pool, region, month, Decimal(amount) * 100, Decimal(amount),
                             "2026.1")


# --- S1 --------------------------------------------------------------------------------------


def test_s1_a_tier_a_dealer_becomes_the_repair_centre_and_opens_its_pool(
    app: ChannelLedger, centre: str
) -> None:
    pool = app.get_pool(centre)
    assert (pool.pool, pool.region, pool.opened_on, pool.balance) == (
        centre, "east", SIGNED_ON, Decimal("0.00")
    )
    assert app.get_roster().repair_centres == {"east": centre}
    assert app.get_dealer(centre).repair_centre_since == SIGNED_ON


@pytest.mark.parametrize("tier", ["AA", "SI"])
def test_s1_only_a_tier_a_dealer_can_be_a_repair_centre(app: ChannelLedger, tier: str) -> None:
    dealer_id = onboard(app, "active", tier=tier)
    refused(app, "S1", app.authorize_repair_centre, dealer_id, SIGNED_ON)


def test_s1_a_repair_centre_needs_a_formal_agreement(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "forecast")
    refused(app, "S1", app.authorize_repair_centre, dealer_id, SIGNED_ON)


def test_s1_one_repair_centre_per_region(app: ChannelLedger, centre: str) -> None:
    rival = onboard(app, "active", region="east", name="rival")
    error = refused(app, "S1", app.authorize_repair_centre, rival, SIGNED_ON)
    assert centre in error.message
    west = onboard(app, "active", region="west", name="west")
    app.authorize_repair_centre(west, SIGNED_ON)
    assert app.get_roster().repair_centres == {"east": centre, "west": west}


def test_s1_a_dealer_is_authorized_once(app: ChannelLedger, centre: str) -> None:
    refused(app, "S1", app.authorize_repair_centre, centre, date(2026, 2, 1))


def test_s1_termination_frees_the_region_and_closes_the_pool(
    app: ChannelLedger, centre: str
) -> None:
    fund(app, centre, "2026-01", "500")
    app.terminate_dealer(centre, date(2026, 2, 10), "left")
    assert app.get_pool(centre).closed_on == date(2026, 2, 10)
    refused(app, "S1", app.draw_spare_parts, centre, date(2026, 2, 11), "fan", 1, "10")
    successor = onboard(app, "active", region="east", name="successor")
    app.authorize_repair_centre(successor, date(2026, 2, 11))
    assert app.get_roster().repair_centres == {"east": successor}


# --- S2 (once per pool and month) ---------------------------------------------------------


def test_s2_a_pool_is_allocated_once_per_month(app: ChannelLedger, centre: str) -> None:
    fund(app, centre, "2026-01", "500")
    before = app.recorder.max_notification_id()
    again = app.allocate_spare_parts(centre, "east", "2026-01", Decimal("1"), Decimal("999"),
                                     "2026.1")
    assert again.position is None and app.recorder.max_notification_id() == before
    assert app.get_pool(centre).allocated == Decimal("500")


def test_s2_the_national_pool_opens_on_its_first_allocation(app: ChannelLedger) -> None:
    refused(app, None, app.get_pool, NATIONAL_POOL, error=NotFoundError)
    fund(app, NATIONAL_POOL, "2026-01", "120.50", region="")
    pool = app.get_pool(NATIONAL_POOL)
    assert (pool.balance, pool.opened_on) == (Decimal("120.50"), date(2026, 1, 1))


# --- S3 --------------------------------------------------------------------------------------


def test_s3_a_draw_within_the_balance_is_taken_at_cost(app: ChannelLedger, centre: str) -> None:
    fund(app, centre, "2026-01", "500")
    app.draw_spare_parts(centre, date(2026, 2, 3), "power supply", 2, "180.40")
    assert app.get_pool(centre).balance == Decimal("319.60")
    app.draw_spare_parts(centre, date(2026, 2, 4), "fan", 1, "319.60")  # exactly the balance
    assert app.get_pool(centre).balance == Decimal("0.00")


def test_s3_a_draw_above_the_balance_is_refused(app: ChannelLedger, centre: str) -> None:
    fund(app, centre, "2026-01", "500")
    app.draw_spare_parts(centre, date(2026, 2, 3), "power supply", 1, "400")
    error = refused(app, "S3", app.draw_spare_parts, centre, date(2026, 2, 4), "fan", 1,
                    "100.01")
    assert error.field == "value" and "100.00" in error.message


def test_s3_a_draw_from_an_unfunded_pool_is_refused(app: ChannelLedger, centre: str) -> None:
    refused(app, "S3", app.draw_spare_parts, centre, date(2026, 2, 3), "fan", 1, "0.01")


def test_s3_unused_balance_carries_over(app: ChannelLedger, centre: str) -> None:
    fund(app, centre, "2026-01", "500")
    app.draw_spare_parts(centre, date(2026, 2, 3), "fan", 1, "100")
    fund(app, centre, "2026-02", "300")
    app.draw_spare_parts(centre, date(2026, 3, 3), "board", 1, "700")
    assert app.get_pool(centre).balance == Decimal("0")


def test_s3_the_national_pool_draws_the_same_way(app: ChannelLedger) -> None:
    fund(app, NATIONAL_POOL, "2026-01", "50", region="")
    refused(app, "S3", app.draw_spare_parts, NATIONAL_POOL, date(2026, 2, 3), "fan", 1, "51")
    app.draw_spare_parts(NATIONAL_POOL, date(2026, 2, 3), "fan", 1, "50")


def test_s3_a_draw_dated_before_the_pool_opened_is_refused(
    app: ChannelLedger, centre: str
) -> None:
    fund(app, centre, "2026-01", "500")
    error = refused(app, "S3", app.draw_spare_parts, centre, date(2026, 1, 19), "fan", 1, "1")
    assert error.field == "drawn_on"


@pytest.mark.parametrize(
    ("part", "qty", "value", "field"),
    [(" ", 1, "1", "part"), ("fan", 0, "1", "qty"), ("fan", 1, "0", "value"),
     ("fan", 1, "-5", "value"), ("fan", 1, "lots", "value"), ("fan", 1, 2.5, "value"),
     ("fan", "many", "1", "qty"), ("fan", 1.5, "1", "qty")],
)
def test_s3_an_unreadable_draw_is_refused_naming_the_field(
    app: ChannelLedger, centre: str, part: str, qty: int, value: object, field: str
) -> None:
    fund(app, centre, "2026-01", "500")
    error = refused(app, None, app.draw_spare_parts, centre, date(2026, 2, 3), part, qty, value,
                    error=InvalidInputError)
    assert error.field == field


def test_s3_a_dealer_without_a_pool_has_nothing_to_draw(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "active")
    refused(app, None, app.draw_spare_parts, dealer_id, date(2026, 2, 3), "fan", 1, "1",
            error=NotFoundError)


def test_s1_a_repair_centre_demoted_from_tier_a_frees_its_region_and_its_pool_closes() -> None:
    from domain.values import Tier

    app = memory_app()
    publish_prices(app)
    centre = onboard(app, "active", tier="A", region="east")
    app.authorize_repair_centre(centre, date(2026, 2, 1))
    app.change_tier(centre, "AA", "targets missed", date(2026, 3, 1))
    assert app.get_pool(centre).closed_on == date(2026, 3, 1)
    assert "east" not in app.get_roster().repair_centres
    assert app.get_dealer(centre).tier == Tier.AA
    # The region can appoint another tier-A dealer; the demoted dealer's pool takes no draws.
    other = onboard(app, "active", tier="A", region="east")
    app.authorize_repair_centre(other, date(2026, 3, 2))
    assert app.get_roster().repair_centres["east"] == other
    refused(app, "S1", app.draw_spare_parts, centre, date(2026, 3, 3), "fan", 1, "1.00")
