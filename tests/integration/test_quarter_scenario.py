"""A whole quarter (Q2 2026) with hand-computed expectations for the rebate ledger, the slips, the
spare-parts budgets and the rankings, on SQLite and on PostgreSQL.

The price list has one SKU "UNIT" (list 1.00) and every order asks 1.00 a unit, so an order of
N units is worth exactly N CNY. Policy: the default version 2026.1 from January, and 2026.2 from
1 May (mid-year, mid-quarter) with higher monthly rates and A brackets — so April's monthly
entries and the quarter's use 2026.1, May's and June's monthly entries 2026.2 (R4).

dealer (tier, region, agreed a month): April / May / June = quarter
- Alpha (A, east, 300,000; repair centre): 300,000 (exactly the agreed amount) / 500,000 /
  1,250,000 − 50,000 returned from May = 1,200,000 → 2,000,000 (exactly the A threshold)
- Beta (AA, promoted to A on 15 May; east, 100,000): 150,000 / 120,000 / 100,000 → 370,000
- Gamma (SI, north, 50,000): 60,000 / 40,000 / −10,000 (a return of April) → 90,000
- Delta (AA, north, 80,000): 100,000 / 100,000 / 99,999 → 299,999 (a unit below 300,000)
- Hospital (END, north): — / 30,000 / — → 30,000

The north region has no repair centre: its 1 % goes to the national pool (S2)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.policy import Bracket, PolicyBook
from domain.values import Tier
from infra.settings import Settings
from services.application import Done
from services.runtime import Runtime, build_runtime
from tests.builders import UNIT_POLICY

D = date.fromisoformat
V1 = UNIT_POLICY.versions[0]
V2 = dataclasses.replace(
    V1,
    id="2026.2",
    effective_from=date(2026, 5, 1),
    monthly_rebate={
        Tier.A: Decimal("0.025"),
        Tier.AA: Decimal("0.018"),
        Tier.SI: Decimal("0.012"),
        Tier.END: Decimal("0"),
    },
    quarterly_rebate={
        **V1.quarterly_rebate,
        Tier.A: (
            Bracket(Decimal("1000000"), Decimal("0.025")),
            Bracket(Decimal("2000000"), Decimal("0.035")),
            Bracket(Decimal("5000000"), Decimal("0.045")),
        ),
    },
)
BOOK = PolicyBook([V1, V2])
UNIT = [{"sku": "UNIT", "name": "one yuan of goods", "list_price": "1.00", "floor_price": "0.50"}]


def money(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))


@dataclasses.dataclass
class Quarter:
    runtime: Runtime
    ids: dict[str, str] = dataclasses.field(default_factory=dict)
    orders: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def app(self) -> Any:
        return self.runtime.app

    def do(self, done: Done[Any]) -> Done[Any]:
        self.runtime.sync(done.position)
        return done

    def dealer(self, key: str, tier: str, region: str, salesperson: str, amount: str | None) -> None:
        done = self.do(
            self.app.register_dealer(
                key.title(), region, tier, salesperson, f"{key}@example.cn", D("2026-03-02")
            )
        )
        dealer_id = str(done.value.id)
        self.ids[key] = dealer_id
        if amount is None:
            return
        self.do(self.app.sign_draft_agreement(dealer_id, D("2026-03-05")))
        months = [("2026-04", amount), ("2026-05", amount), ("2026-06", amount)]
        self.do(self.app.submit_forecast(dealer_id, months))
        self.do(self.app.sign_formal_agreement(dealer_id, D("2026-03-20"), amount, 12))

    def sell(self, key: str, ref: str, units: int, on: str) -> None:
        """Place, pay, ship and deliver `units` units on one day."""
        day = D(on)
        region = self.app.get_dealer(self.ids[key]).region
        done = self.do(
            self.app.place_order(
                self.ids[key],
                ref,
                day,
                region,
                "prepaid",
                [{"sku": "UNIT", "qty": units, "unit_price": "1.00"}],
            )
        )
        order_id = str(done.value.id)
        self.orders[ref] = order_id
        self.do(self.app.record_payment(order_id, day, done.value.total))
        self.do(self.app.ship_order(order_id, day))
        self.do(self.app.deliver_order(order_id, day))

    def give_back(self, ref: str, units: int, on: str) -> None:
        self.do(self.app.return_order_lines(self.orders[ref], D(on), [{"sku": "UNIT", "qty": units}]))

    def close(self, month: str, on: str) -> None:
        self.do(self.app.close_period(month, D(on)))


def play(runtime: Runtime) -> Quarter:
    q = Quarter(runtime)
    q.do(q.app.publish_price_list(D("2026-03-01"), UNIT))
    q.dealer("alpha", "A", "east", "alice", "300000")
    q.dealer("beta", "AA", "east", "bob", "100000")
    q.dealer("gamma", "SI", "north", "carol", "50000")
    q.dealer("delta", "AA", "north", "carol", "80000")
    q.dealer("hospital", "END", "north", "carol", None)
    q.do(q.app.authorize_repair_centre(q.ids["alpha"], D("2026-04-01")))
    # April
    q.sell("alpha", "A-APR", 300_000, "2026-04-10")
    q.sell("beta", "B-APR", 150_000, "2026-04-11")
    q.sell("gamma", "G-APR", 60_000, "2026-04-12")
    q.sell("delta", "D-APR", 100_000, "2026-04-13")
    q.close("2026-04", "2026-05-01")
    # May: Beta is promoted to A in the middle of the quarter.
    q.sell("alpha", "A-MAY", 500_000, "2026-05-12")
    q.do(q.app.change_tier(q.ids["beta"], "A", "promoted: steady growth", D("2026-05-15")))
    q.sell("beta", "B-MAY", 120_000, "2026-05-16")
    q.sell("gamma", "G-MAY", 40_000, "2026-05-17")
    q.sell("delta", "D-MAY", 100_000, "2026-05-18")
    q.sell("hospital", "H-MAY", 30_000, "2026-05-19")
    q.do(q.app.draw_spare_parts(q.ids["alpha"], D("2026-05-20"), "fan tray", 2, "1000.00"))
    q.close("2026-05", "2026-06-01")
    # June: Alpha returns part of May's order, Gamma part of April's.
    q.give_back("G-APR", 10_000, "2026-06-05")
    q.sell("alpha", "A-JUN", 1_250_000, "2026-06-10")
    q.sell("beta", "B-JUN", 100_000, "2026-06-11")
    q.sell("delta", "D-JUN", 99_999, "2026-06-12")
    q.give_back("A-MAY", 50_000, "2026-06-20")
    q.close("2026-06", "2026-07-01")
    return q


@pytest.fixture(params=["sqlite", "postgres"])
def quarter(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Quarter]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/quarter.db"
    else:
        url = request.getfixturevalue("pg_url")
    runtime = build_runtime(
        Settings().with_database(url), initial_policy=BOOK, clock=lambda: date(2026, 7, 2)
    )
    try:
        yield play(runtime)
    finally:
        runtime.close()


def ledger(q: Quarter, period: str) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    names = {v: k for k, v in q.ids.items()}
    return {
        (names[e["dealer_id"]], e["period"], e["kind"]): (
            e["status"],
            e["basis"],
            e["rate"],
            e["amount"],
            e["policy_version"],
            e["tier"],
        )
        for e in q.runtime.reports.rebates(period)
    }


# (status, basis, rate, amount, policy version, tier) — computed by hand from the table above.
EXPECTED_LEDGER = {
    # R2 on the agreed amount exactly; 2026.1 in April; 2026.2 (2.5 %) for May and June.
    ("alpha", "2026-04", "monthly"): (
        "posted",
        money("300000"),
        Decimal("0.020"),
        money("6000"),
        "2026.1",
        "A",
    ),
    ("alpha", "2026-05", "monthly"): (
        "posted",
        money("500000"),
        Decimal("0.025"),
        money("12500"),
        "2026.2",
        "A",
    ),
    ("alpha", "2026-06", "monthly"): (
        "posted",
        money("1200000"),
        Decimal("0.025"),
        money("30000"),
        "2026.2",
        "A",
    ),
    # R3 exactly on the 2,000,000 threshold: 3 % of 2026.1 (in force on 1 April), not 3.5 %.
    ("alpha", "2026-Q2", "quarterly"): (
        "posted",
        money("2000000"),
        Decimal("0.030"),
        money("60000"),
        "2026.1",
        "A",
    ),
    # R4: AA on 30 April, A on 31 May and 30 June; the quarter is rated as A and reaches nothing.
    ("beta", "2026-04", "monthly"): (
        "posted",
        money("150000"),
        Decimal("0.015"),
        money("2250"),
        "2026.1",
        "AA",
    ),
    ("beta", "2026-05", "monthly"): (
        "posted",
        money("120000"),
        Decimal("0.025"),
        money("3000"),
        "2026.2",
        "A",
    ),
    ("beta", "2026-06", "monthly"): (
        "posted",
        money("100000"),
        Decimal("0.025"),
        money("2500"),
        "2026.2",
        "A",
    ),
    ("beta", "2026-Q2", "quarterly"): ("posted", money("370000"), Decimal("0"), money("0"), "2026.1", "A"),
    # May below the agreed 50,000; June negative (a return of April): zero, never negative.
    ("gamma", "2026-04", "monthly"): (
        "posted",
        money("60000"),
        Decimal("0.010"),
        money("600"),
        "2026.1",
        "SI",
    ),
    ("gamma", "2026-05", "monthly"): ("posted", money("40000"), Decimal("0"), money("0"), "2026.2", "SI"),
    ("gamma", "2026-06", "monthly"): ("posted", money("-10000"), Decimal("0"), money("0"), "2026.2", "SI"),
    ("gamma", "2026-Q2", "quarterly"): ("posted", money("90000"), Decimal("0"), money("0"), "2026.1", "SI"),
    # 99,999 × 1.8 % = 1,799.982 → 1,799.98; the quarter is a unit below [300,000, 600,000).
    ("delta", "2026-04", "monthly"): (
        "posted",
        money("100000"),
        Decimal("0.015"),
        money("1500"),
        "2026.1",
        "AA",
    ),
    ("delta", "2026-05", "monthly"): (
        "posted",
        money("100000"),
        Decimal("0.018"),
        money("1800"),
        "2026.2",
        "AA",
    ),
    ("delta", "2026-06", "monthly"): (
        "posted",
        money("99999"),
        Decimal("0.018"),
        money("1799.98"),
        "2026.2",
        "AA",
    ),
    ("delta", "2026-Q2", "quarterly"): ("posted", money("299999"), Decimal("0"), money("0"), "2026.1", "AA"),
}


def test_r1_r5_the_quarters_ledger_matches_the_hand_computed_figures(quarter: Quarter) -> None:
    assert ledger(quarter, "2026-Q2") == EXPECTED_LEDGER


def test_r5_each_close_issued_one_slip_per_dealer_with_the_posted_lines(quarter: Quarter) -> None:
    names = {v: k for k, v in quarter.ids.items()}
    slips = quarter.runtime.reports.slips(period="2026-Q2")
    got = {
        (names[s["dealer_id"]], s["period"]): (s["status"], s["total"], [x["kind"] for x in s["lines"]])
        for s in slips
    }
    assert got == {
        ("alpha", "2026-04"): ("issued", money("6000"), ["monthly"]),
        ("beta", "2026-04"): ("issued", money("2250"), ["monthly"]),
        ("gamma", "2026-04"): ("issued", money("600"), ["monthly"]),
        ("delta", "2026-04"): ("issued", money("1500"), ["monthly"]),
        ("alpha", "2026-05"): ("issued", money("12500"), ["monthly"]),
        ("beta", "2026-05"): ("issued", money("3000"), ["monthly"]),
        ("gamma", "2026-05"): ("issued", money("0"), ["monthly"]),
        ("delta", "2026-05"): ("issued", money("1800"), ["monthly"]),
        ("alpha", "2026-06"): ("issued", money("90000"), ["monthly", "quarterly"]),
        ("beta", "2026-06"): ("issued", money("2500"), ["monthly", "quarterly"]),
        ("gamma", "2026-06"): ("issued", money("0"), ["monthly", "quarterly"]),
        ("delta", "2026-06"): ("issued", money("1799.98"), ["monthly", "quarterly"]),
    }


def test_s2_the_pools_received_one_percent_of_their_regions_trailing_three_months(
    quarter: Quarter,
) -> None:
    alpha = quarter.ids["alpha"]
    got = {
        (b["pool"], b["month"]): (
            b["region"],
            b["basis"],
            b["allocated"],
            b["drawn"],
            b["balance"],
            b["status"],
        )
        for m in ("2026-04", "2026-05", "2026-06")
        for b in quarter.runtime.reports.spare_budgets(m)
    }
    assert got == {
        # April: east 300,000 + 150,000; north (no repair centre → national) 60,000 + 100,000.
        (alpha, "2026-04"): ("east", money("450000"), money("4500"), money("0"), money("4500"), "allocated"),
        ("national", "2026-04"): (
            "national",
            money("160000"),
            money("1600"),
            money("0"),
            money("1600"),
            "allocated",
        ),
        # May (March–May): east 1,070,000; north 330,000 with the industry customer; a draw of 1,000.
        (alpha, "2026-05"): (
            "east",
            money("1070000"),
            money("10700"),
            money("1000"),
            money("14200"),
            "allocated",
        ),
        ("national", "2026-05"): (
            "national",
            money("330000"),
            money("3300"),
            money("0"),
            money("4900"),
            "allocated",
        ),
        # June (April–June): east 2,370,000; north 90,000 + 299,999 + 30,000 = 419,999.
        (alpha, "2026-06"): (
            "east",
            money("2370000"),
            money("23700"),
            money("0"),
            money("37900"),
            "allocated",
        ),
        ("national", "2026-06"): (
            "national",
            money("419999"),
            money("4199.99"),
            money("0"),
            money("9099.99"),
            "allocated",
        ),
    }


def test_k3_dealers_rank_by_the_quarters_net_sales_overall_and_per_region(quarter: Quarter) -> None:
    names = {v: k for k, v in quarter.ids.items()}
    rows = quarter.runtime.reports.dealer_ranking("2026-Q2")
    assert [(r["rank"], names[r["dealer_id"]], r["net_sales"], r["region_rank"]) for r in rows] == [
        (1, "alpha", money("2000000"), 1),
        (2, "beta", money("370000"), 2),
        (3, "delta", money("299999"), 1),
        (4, "gamma", money("90000"), 2),
    ]
    north = quarter.runtime.reports.dealer_ranking("2026-Q2", region="north")
    assert [(r["rank"], names[r["dealer_id"]]) for r in north] == [(1, "delta"), (2, "gamma")]


def test_k2_k4_june_ranking_targets_achievement_flags_and_bonus(quarter: Quarter) -> None:
    rows = quarter.runtime.reports.salesperson_ranking("2026-06")
    got = [
        (
            r["rank"],
            r["salesperson"],
            r["region"],
            r["net_sales"],
            r["target"],
            r["achievement"],
            r["bonus"],
            r["flags"],
        )
        for r in rows
    ]
    # K4: the dealers registered on 2 March, so March (nothing sold) is everyone's first quota
    # month; each month's unmet target carries into the next until made up. Flags show in the
    # month they are decided: probation in April (the second quota month), not in June.
    assert got == [
        # Alice: targets 375,000 / 750,000 − 300,000 / 825,000 − 500,000 → June 700,000, reached
        # on 10 June (1,250,000 delivered), the first (and only one) in the east.
        (1, "alice", "east", money("1200000"), money("700000"), Decimal("1.7778"), money("1000"), []),
        # Bob: unmet 375,000, then 750,000 − 150,000, then 975,000 − 120,000 → June 1,230,000;
        # March to June each below quota.
        (
            2,
            "bob",
            "east",
            money("100000"),
            money("1230000"),
            Decimal("0.3289"),
            money("0"),
            ["dismissal_review"],
        ),
        # Carol: June −10,000 (Gamma) + 99,999 (Delta); April 160,000, May 170,000 with the
        # hospital: unmet 375,000, 590,000, 795,000 → June 1,170,000.
        (
            3,
            "carol",
            "north",
            money("89999"),
            money("1170000"),
            Decimal("0.3733"),
            money("0"),
            ["dismissal_review"],
        ),
    ]


def test_k4_the_quarters_ranking_shows_the_flags_decided_in_its_months(quarter: Quarter) -> None:
    rows = quarter.runtime.reports.salesperson_ranking("2026-Q2")
    got = {r["salesperson"]: (r["quota"], r["carried"], r["target"], r["flags"], r["bonus"])
           for r in rows}
    # Quota 3 × 375,000, plus March's unmet 375,000 carried into April. Probation is decided in
    # April (March + April below 80 % of 750,000), dismissal review in May and June for bob and
    # carol (three quota months each below quota); alice met May's quota.
    assert got == {
        "alice": (money("1125000"), money("375000"), money("1500000"), ["probation_extended"],
                  money("0")),
        "bob": (money("1125000"), money("375000"), money("1500000"),
                ["probation_extended", "dismissal_review"], money("0")),
        "carol": (money("1125000"), money("375000"), money("1500000"),
                  ["probation_extended", "dismissal_review"], money("0")),
    }


def test_d5_k5_east_is_flagged_once_its_only_aa_dealer_is_promoted_to_a(quarter: Quarter) -> None:
    # East has Alpha and Beta — but Beta became A, so east has two A dealers and no AA (D5).
    flags = {f["region"]: f["flagged"] for f in quarter.runtime.reports.d5_flags("2026-Q2")}
    assert flags == {"east": True, "north": False}
    stats = quarter.runtime.reports.statistics("2026-Q2")
    assert stats["totals"]["net_sales"] == money("2789999")
    assert stats["totals"]["rebates"] == money("121949.98")
    assert {r["region"]: r["lacks_aa_successor"] for r in stats["regions"]} == flags


def test_r7_every_figure_is_explained_by_the_deliveries_and_returns_behind_it(
    quarter: Quarter,
) -> None:
    explanation = quarter.runtime.reports.rebate_explanation(quarter.ids["alpha"], "2026-06")
    (entry,) = explanation["entries"]
    assert (entry["basis"], entry["threshold"], entry["rate"], entry["policy_version"]) == (
        money("1200000"),
        Decimal("300000"),
        Decimal("0.025"),
        "2026.2",
    )
    assert [(f["kind"], f["client_ref"], f["value"]) for f in explanation["deliveries"]] == [
        ("delivery", "A-JUN", money("1250000"))
    ]
    (returned,) = explanation["returns"]
    assert (returned["client_ref"], returned["order_date"], returned["value"]) == (
        "A-MAY",
        date(2026, 5, 12),
        money("-50000"),
    )
    assert returned["lines"] == [
        {"sku": "UNIT", "qty": 50000, "unit_price": Decimal("1.00"), "amount": money("-50000")}
    ]
    assert explanation["net_sales"] == entry["basis"]
    quarterly = quarter.runtime.reports.rebate_explanation(quarter.ids["alpha"], "2026-Q2")
    (q_entry,) = [e for e in quarterly["entries"] if e["kind"] == "quarterly"]
    assert (q_entry["threshold"], q_entry["rate"], q_entry["policy_version"]) == (
        Decimal("2000000"),
        Decimal("0.030"),
        "2026.1",
    )
    assert quarterly["net_sales"] == q_entry["basis"] == money("2000000")
    assert len(q_entry["facts"]) == 4  # three deliveries and one return
