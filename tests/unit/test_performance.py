"""Performance tables K1–K5 and the D5 flag, on the in-memory store: who gets the sales (D8), the
rankings, the carried-over target, achievement, flags and the bonus."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from domain import performance
from domain.values import Month
from tests.builders import POLICY
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


def test_k4_a_shortfall_carries_until_made_up() -> None:
    # K4: target = quota + the previous month's unmet target. Nothing sold in April and May: the
    # unmet targets pile up (375,000, then 750,000) into June's target.
    net = {Month(2026, 4): Decimal(0), Month(2026, 5): Decimal(0)}
    months = performance.quota_months(Month(2026, 4), Month(2026, 6), net, POLICY)
    assert [m.target for m in months] == [QUOTA, 2 * QUOTA, 3 * QUOTA]


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


def test_k2_the_first_in_each_region_to_reach_the_months_target_is_marked_for_the_bonus(
    world: World,
) -> None:
    # K4: the dealers registered on 2 March, so March is everyone's first quota month; nothing
    # was sold in it, so April's target is 375,000 + March's unmet 375,000 = 750,000 (K2: the
    # bonus goes to the first to reach the month's target, quota plus carried shortfall).
    world.sell("Beta", 375_000, D("2026-04-05"))  # bob reaches the plain quota, not the target
    world.sell("Alpha", 900_000, D("2026-04-06"))  # alice reaches 750,000 on the 6th
    world.sell("Gamma", 200_000, D("2026-04-07"))
    world.sell("Gamma", 180_000, D("2026-04-09"))  # carol: the quota on the 9th, not the target
    rows = {r["salesperson"]: r for r in world.rt.reports.salesperson_ranking("2026-04")}
    assert [rows[s]["rank"] for s in ("alice", "carol", "bob", "dora")] == [1, 2, 3, 4]
    assert {s: rows[s]["target"] for s in rows} == {s: Decimal("750000.00") for s in rows}
    winners = {s for s, r in rows.items() if r["bonus_candidate"]}
    assert winners == {"alice"}  # the north has no one who reached the target
    assert rows["alice"]["bonus"] == Decimal("1000.00") and rows["bob"]["bonus"] == 0
    assert rows["alice"]["reached_target_on"] == D("2026-04-06")
    assert rows["carol"]["reached_quota_on"] == D("2026-04-09")
    assert rows["carol"]["reached_target_on"] is None


def test_k2_in_the_first_quota_month_the_target_is_the_quota_and_each_region_has_its_first(
    world: World,
) -> None:
    world.sell("Beta", 375_000, D("2026-03-05"))  # bob reaches it on the 5th
    world.sell("Alpha", 900_000, D("2026-03-06"))  # alice sells more, a day later
    world.sell("Gamma", 200_000, D("2026-03-07"))
    world.sell("Gamma", 180_000, D("2026-03-09"))  # carol on the 9th; dora never
    rows = {r["salesperson"]: r for r in world.rt.reports.salesperson_ranking("2026-03")}
    assert {s: (r["target"], r["carried"]) for s, r in rows.items()} == {
        s: (QUOTA, 0) for s in ("alice", "bob", "carol", "dora")
    }
    assert {s for s, r in rows.items() if r["bonus_candidate"]} == {"bob", "carol"}
    assert rows["carol"]["reached_target_on"] == D("2026-03-09")


def test_k2_on_a_tie_of_days_the_one_further_past_the_target_wins_whatever_the_log_order(
    world: World,
) -> None:
    # Both targets are 750,000 (K4: March's unmet 375,000 carried into April): bob is 30,000 past
    # it that evening, alice 50,000.
    world.sell("Beta", 780_000, D("2026-04-05"))
    world.sell("Alpha", 800_000, D("2026-04-05"))
    rows = {r["salesperson"]: r for r in world.rt.reports.salesperson_ranking("2026-04")}
    assert (rows["alice"]["bonus_candidate"], rows["bob"]["bonus_candidate"]) == (True, False)


def test_k4_achievement_flags_need_the_months_to_have_been_worked(world: World) -> None:
    # Registered on 2 March: March, April and May are quota months; sales only in April.
    world.sell("Alpha", 300_000, D("2026-04-10"))
    (alice,) = [r for r in world.rt.reports.salesperson_ranking("2026-05") if r["salesperson"] == "alice"]
    assert alice["achievement"] == Decimal("0.2667")  # 300,000 / (3 × 375,000)
    # Three quota months each below quota: dismissal review, decided in May. Probation was
    # decided in April (the second quota month) and shows there only.
    assert alice["flags"] == ["dismissal_review"]
    # 375,000 + April's unmet 450,000 (April's target 750,000 − 300,000).
    assert alice["target"] == Decimal("825000.00")
    (april,) = [r for r in world.rt.reports.salesperson_ranking("2026-04") if r["salesperson"] == "alice"]
    assert april["flags"] == ["probation_extended"]  # 300,000 < 80 % of 2 × 375,000
    (march,) = [r for r in world.rt.reports.salesperson_ranking("2026-03") if r["salesperson"] == "alice"]
    assert march["flags"] == []  # one month worked: too short a history
    (q2,) = [r for r in world.rt.reports.salesperson_ranking("2026-Q2") if r["salesperson"] == "alice"]
    assert q2["flags"] == ["probation_extended", "dismissal_review"]  # decided in April and May


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
