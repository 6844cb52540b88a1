"""Performance tables K1–K5 and the D5 flag, on the in-memory store: who gets the sales (D8), the
rankings, the carried-over target, achievement, flags and the bonus."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from domain.values import Month
from projections import performance
from tests.unit.test_projection import World, new_runtime

D = date.fromisoformat
QUOTA = Decimal("375000")


@pytest.fixture
def world() -> Iterator[World]:
    rt = new_runtime()
    w = World(rt)
    w.setup(
        [
            ("Alpha", "A", "east", "alice", "300000"),
            ("Beta", "AA", "east", "bob", "100000"),
            ("Gamma", "SI", "north", "carol", "50000"),
            ("Delta", "AA", "north", "dora", "80000"),
        ],
        repair=False,
    )
    yield w
    rt.close()


def test_k3_equal_net_sales_share_a_rank() -> None:
    rows = [Decimal(5), Decimal(3), Decimal(3), Decimal(1)]
    assert [r for r, _ in performance.rank(rows, lambda x: x)] == [1, 2, 2, 4]


def test_k4_a_shortfall_carries_one_month_and_does_not_snowball() -> None:
    net = {Month(2026, 4): Decimal(0), Month(2026, 5): Decimal(0)}

    def quota(_: Month) -> Decimal:
        return QUOTA

    first = Month(2026, 4)
    assert performance.target(Month(2026, 4), net, quota, first) == QUOTA
    assert performance.target(Month(2026, 5), net, quota, first) == 2 * QUOTA
    assert performance.target(Month(2026, 6), net, quota, first) == 2 * QUOTA


def test_d8_sales_count_for_the_owner_on_the_orders_date(world: World) -> None:
    world.sell("Alpha", 100_000, D("2026-04-10"))
    world.do(world.rt.app.reassign_salesperson(world.ids["Alpha"], "erin", D("2026-04-15")))
    world.sell("Alpha", 50_000, D("2026-04-20"))
    # A return in May of April 10's order still belongs to alice.
    world.give_back("Alpha", 10_000, D("2026-05-05"))
    world.orders["Alpha"].reverse()
    world.give_back("Alpha", 20_000, D("2026-05-06"))  # of April 20's order: erin's
    april = {r["salesperson"]: r["net_sales"] for r in world.rt.reports.salesperson_ranking("2026-04")}
    may = {r["salesperson"]: r["net_sales"] for r in world.rt.reports.salesperson_ranking("2026-05")}
    assert april["alice"] == Decimal("100000.00") and april["erin"] == Decimal("50000.00")
    assert may["alice"] == Decimal("-20000.00") and may["erin"] == Decimal("-10000.00")


def test_k2_the_first_in_each_region_to_reach_the_quota_is_marked_for_the_bonus(world: World) -> None:
    world.sell("Beta", 375_000, D("2026-04-05"))  # bob reaches it on the 5th
    world.sell("Alpha", 900_000, D("2026-04-06"))  # alice sells more, a day later
    world.sell("Gamma", 200_000, D("2026-04-07"))
    world.sell("Gamma", 180_000, D("2026-04-09"))  # carol on the 9th; dora never
    rows = {r["salesperson"]: r for r in world.rt.reports.salesperson_ranking("2026-04")}
    assert [rows[s]["rank"] for s in ("alice", "carol", "bob", "dora")] == [1, 2, 3, 4]
    winners = {s for s, r in rows.items() if r["bonus_candidate"]}
    assert winners == {"bob", "carol"}
    assert rows["bob"]["bonus"] == Decimal("1000.00") and rows["alice"]["bonus"] == 0
    assert rows["carol"]["reached_quota_on"] == D("2026-04-09")


def test_k2_on_a_tie_of_days_the_one_further_past_the_quota_wins_whatever_the_log_order(
    world: World,
) -> None:
    world.sell("Beta", 380_000, D("2026-04-05"))
    world.sell("Alpha", 400_000, D("2026-04-05"))
    rows = {r["salesperson"]: r for r in world.rt.reports.salesperson_ranking("2026-04")}
    assert (rows["alice"]["bonus_candidate"], rows["bob"]["bonus_candidate"]) == (True, False)


def test_k4_achievement_flags_need_the_months_to_have_been_worked(world: World) -> None:
    # Registered on 2 March: March, April and May are worked; sales only in April.
    world.sell("Alpha", 300_000, D("2026-04-10"))
    (alice,) = [r for r in world.rt.reports.salesperson_ranking("2026-05") if r["salesperson"] == "alice"]
    assert alice["achievement"] == Decimal("0.2667")  # 300,000 / (3 × 375,000)
    assert alice["flags"] == ["probation_extended", "dismissal_review"]
    assert alice["target"] == Decimal("450000.00")  # 375,000 + April's 75,000 shortfall
    (march,) = [r for r in world.rt.reports.salesperson_ranking("2026-03") if r["salesperson"] == "alice"]
    assert march["flags"] == []  # one month worked: too short a history


def test_k1_the_week_shows_net_sales_progress_and_forecasts_of_the_salespersons_dealers(
    world: World,
) -> None:
    app = world.rt.app
    new = str(app.register_dealer("Epsilon", "east", "SI", "alice", "c", D("2026-04-07")).value.id)
    world.do(app.sign_draft_agreement(new, D("2026-04-08")))
    world.sell("Alpha", 120_000, D("2026-04-09"))  # Alpha's first order: agreement in effect
    week = world.rt.reports.weekly("alice", "2026-W15")
    assert (week["from"], week["to"], week["net_sales"]) == (
        D("2026-04-06"),
        D("2026-04-12"),
        Decimal("120000.00"),
    )
    assert {k: v["count"] for k, v in week["progress"].items()} == {
        "registration": 1,
        "draft_agreement": 1,
        "formal_agreement": 0,
        "first_order": 1,
    }
    assert [(f["name"], f["month"]) for f in week["forecasts"]] == [
        ("Alpha", "2026-04"),
        ("Alpha", "2026-05"),
        ("Alpha", "2026-06"),
    ]
    assert world.rt.reports.weekly("bob", "2026-W15")["net_sales"] == 0


def test_k5_statistics_add_up_per_dealer_salesperson_and_region(world: World) -> None:
    world.sell("Alpha", 300_000, D("2026-04-10"))
    world.sell("Gamma", 60_000, D("2026-04-11"))
    world.give_back("Gamma", 10_000, D("2026-04-12"))
    stats = world.rt.reports.statistics("2026-04")
    regions = {
        r["region"]: (r["orders"], r["net_sales"], r["returns"], r["rebates"]) for r in stats["regions"]
    }
    assert regions == {
        "east": (1, Decimal("300000.00"), Decimal("0.00"), Decimal("6000.00")),
        "north": (1, Decimal("50000.00"), Decimal("10000.00"), Decimal("500.00")),
    }
    assert stats["totals"]["net_sales"] == Decimal("350000.00")
    assert sum(d["net_sales"] for d in stats["dealers"]) == stats["totals"]["net_sales"]
    assert sum(s["net_sales"] for s in stats["salespeople"]) == stats["totals"]["net_sales"]


def test_d5_a_region_is_flagged_once_its_aa_dealer_is_terminated(world: World) -> None:
    assert {f["region"]: f["flagged"] for f in world.rt.reports.d5_flags("2026-04")} == {
        "east": False,
        "north": False,
    }
    world.do(world.rt.app.terminate_dealer(world.ids["Beta"], D("2026-05-10"), "left the channel"))
    assert {f["region"]: f["flagged"] for f in world.rt.reports.d5_flags("2026-05")} == {
        "east": True,
        "north": False,
    }
    assert world.rt.reports.d5_flags("2026-04")[0]["flagged"] is False  # as it stood in April
