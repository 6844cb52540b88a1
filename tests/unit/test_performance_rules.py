"""K2 and K4 as pure functions of typed facts (domain.performance), with hand-computed figures: quota
months, the carried target, achievement, the flags and the month in which each shows, and the
region's bonus by business day."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import performance
from domain.performance import Crossing, Flag
from domain.policy import PolicyBook
from domain.values import Month
from tests.builders import POLICY

Q = Decimal("375000.00")
MAR, APR, MAY, JUN = (Month(2026, m) for m in (3, 4, 5, 6))
# Alice of the quarter scenario: first dealer registered in March, nothing sold in it.
ALICE = {MAR: Decimal(0), APR: Decimal(300_000), MAY: Decimal(500_000), JUN: Decimal(1_200_000)}
AMOUNTS = st.integers(min_value=-200_000, max_value=1_500_000).map(Decimal)


def test_k4_target_is_quota_plus_the_previous_months_unmet_target() -> None:
    months = performance.quota_months(MAR, JUN, ALICE, POLICY)
    # March 375,000 (unmet 375,000); April 750,000 (unmet 450,000); May 825,000 (unmet 325,000);
    # June 700,000, reached with 1,200,000.
    assert [(m.target, m.unmet, m.reached) for m in months] == [
        (Q, Q, False),
        (Decimal("750000.00"), Decimal("450000.00"), False),
        (Decimal("825000.00"), Decimal("325000.00"), False),
        (Decimal("700000.00"), Decimal("0.00"), True),
    ]


def test_k4_months_before_the_first_quota_month_count_for_nothing() -> None:
    sold = {Month(2026, 1): Decimal(-50_000), **ALICE}
    assert performance.quota_months(MAR, JUN, sold, POLICY) == performance.quota_months(
        MAR, JUN, ALICE, POLICY
    )
    assert performance.quota_months(MAR, Month(2026, 2), ALICE, POLICY) == []
    early = performance.standing([Month(2026, 2)], MAR, ALICE, POLICY)
    assert (early.quota, early.target, early.achievement, early.flags) == (0, 0, None, ())


def test_k4_achievement_is_the_last_three_quota_months_on_plain_quota() -> None:
    june = performance.standing([JUN], MAR, ALICE, POLICY)
    assert june.achievement == Decimal("1.7778")  # (300,000 + 500,000 + 1,200,000) ÷ 1,125,000
    april = performance.standing([APR], MAR, ALICE, POLICY)
    assert april.achievement == Decimal("0.4000")  # 300,000 ÷ (2 × 375,000): two quota months


def test_k4_probation_is_decided_in_the_second_quota_month_and_shows_there_only() -> None:
    # March + April: 300,000 < 80 % of 750,000.
    assert [performance.standing([m], MAR, ALICE, POLICY).flags for m in (MAR, APR, MAY, JUN)] == [
        (),
        (Flag.PROBATION_EXTENDED,),
        (),
        (),
    ]
    quarter = performance.standing([APR, MAY, JUN], MAR, ALICE, POLICY)
    assert quarter.flags == (Flag.PROBATION_EXTENDED,)  # decided in April, a month of Q2


def test_k4_probation_holds_at_eighty_percent_exactly() -> None:
    sold = {MAR: Decimal(0), APR: Decimal(600_000)}  # 600,000 = 80 % of 750,000: not below
    assert performance.standing([APR], MAR, sold, POLICY).flags == ()


def test_k4_dismissal_review_after_three_consecutive_quota_months_each_below_quota() -> None:
    # Above quota over the five months (1,884,999 > 1,875,000), yet May to July each below it.
    sold = {MAR: Decimal(374_999), APR: Decimal(400_000), MAY: Decimal(370_000),
            JUN: Decimal(370_000), Month(2026, 7): Decimal(370_000)}
    flags = {m: performance.standing([m], MAR, sold, POLICY).flags for m in sold}
    assert flags[MAY] == ()  # April met its quota: the run starts again in May
    assert flags[JUN] == ()
    assert flags[Month(2026, 7)] == (Flag.DISMISSAL_REVIEW,)  # May, June, July


def test_k4_the_flag_numbers_come_from_the_policy() -> None:
    strict = PolicyBook([dataclasses.replace(v, dismissal_months=2, probation_months=1,
                                           probation_ratio=Decimal("0.5"))
                        for v in POLICY.versions])
    assert performance.standing([MAR], MAR, ALICE, strict).flags == (Flag.PROBATION_EXTENDED,)
    assert performance.standing([APR], MAR, ALICE, strict).flags == (Flag.DISMISSAL_REVIEW,)


def test_k4_a_quarters_target_is_its_quota_plus_the_unmet_target_carried_into_it() -> None:
    q2 = performance.standing([APR, MAY, JUN], MAR, ALICE, POLICY)
    assert (q2.net_sales, q2.quota, q2.carried, q2.target) == (
        Decimal(2_000_000), 3 * Q, Q, 4 * Q
    )


@given(sold=st.lists(AMOUNTS, min_size=1, max_size=18))
@settings(max_examples=200, deadline=None)
def test_k4_the_carried_target_never_falls_below_quota_and_is_the_worst_run_of_shortfalls(
    sold: list[Decimal],
) -> None:
    net = {MAR.plus(k): amount for k, amount in enumerate(sold)}
    months = performance.quota_months(MAR, MAR.plus(len(sold) - 1), net, POLICY)
    assert all(m.target >= m.quota for m in months)
    # What is still unmet is the largest shortfall of any run of months ending now (or nothing):
    # a shortfall carries until later months make it up, and a surplus is never banked ahead.
    shortfalls = [m.quota - m.net_sales for m in months]
    worst = max(sum(shortfalls[k:], Decimal(0)) for k in range(len(shortfalls)))
    assert months[-1].unmet == max(worst, Decimal(0))


@given(surplus=st.lists(st.integers(min_value=0, max_value=10**6).map(Decimal), min_size=1,
                        max_size=12))
@settings(max_examples=100, deadline=None)
def test_k4_a_salesperson_who_meets_every_months_quota_carries_nothing_and_is_never_flagged(
    surplus: list[Decimal],
) -> None:
    net = {MAR.plus(k): Q + extra for k, extra in enumerate(surplus)}
    last = MAR.plus(len(surplus) - 1)
    months = performance.quota_months(MAR, last, net, POLICY)
    assert all(m.carried == 0 and m.reached for m in months)
    assert all(performance.standing([m.month], MAR, net, POLICY).flags == () for m in months)


def test_k2_the_first_day_to_reach_the_target_counts_not_the_first_event() -> None:
    days = [(date(2026, 4, 3), Decimal(500_000)), (date(2026, 4, 9), Decimal(300_000)),
            (date(2026, 4, 12), Decimal(-100_000))]
    assert performance.reached_on(days, Decimal(750_000)) == (date(2026, 4, 9), Decimal(800_000))
    assert performance.reached_on(days, Decimal(800_001)) is None
    assert performance.crossing("bob", "east", days, Decimal(0)) is None  # no target to reach


CROSSINGS = [
    Crossing("bob", "east", date(2026, 4, 5), Decimal(30_000)),
    Crossing("alice", "east", date(2026, 4, 5), Decimal(50_000)),  # same day, further past it
    Crossing("erin", "east", date(2026, 4, 9), Decimal(900_000)),
    Crossing("dora", "north", date(2026, 4, 7), Decimal(10)),
    Crossing("carol", "north", date(2026, 4, 7), Decimal(10)),  # same day, as far past: by name
]


@given(order=st.permutations(CROSSINGS))
@settings(max_examples=50, deadline=None)
def test_k2_one_bonus_per_region_by_day_then_further_past_then_name_never_log_order(
    order: list[Crossing],
) -> None:
    assert performance.bonus_winners(order) == {"east": "alice", "north": "carol"}


def test_k2_k3_equal_net_sales_share_a_rank_and_the_home_region_has_most_dealers() -> None:
    assert [r for r, _ in performance.rank([5, 3, 3, 1], lambda x: Decimal(x))] == [1, 2, 2, 4]
    assert performance.home_region({"north": 2, "east": 2, "west": 1}) == "east"


def test_k4_a_first_dealer_registering_mid_quarter_starts_the_quota_months_there() -> None:
    # First dealer registers in May: the quarter holds two quota months (May, June), nothing is
    # carried into May, and probation is decided in June on May + June's plain quota 750,000.
    sold = {APR: Decimal(900_000), MAY: Decimal(200_000), JUN: Decimal(350_000)}
    quarter = performance.standing([APR, MAY, JUN], MAY, sold, POLICY)
    assert (quarter.quota, quarter.carried, quarter.target) == (
        Decimal("750000.00"), Decimal("0.00"), Decimal("750000.00"),
    )
    assert quarter.net_sales == Decimal(1_450_000)  # April's sales count as sales, not quota
    assert quarter.achievement == Decimal("0.7333")  # 550,000 ÷ 750,000
    assert [performance.standing([m], MAY, sold, POLICY).flags for m in (APR, MAY, JUN)] == [
        (), (), (Flag.PROBATION_EXTENDED,),  # 550,000 < 600,000
    ]
    june = performance.standing([JUN], MAY, sold, POLICY)
    assert (june.carried, june.target, june.reached) == (
        Decimal("175000.00"), Decimal("550000.00"), False,  # May's unmet 175,000 carried
    )


def test_k2_a_month_past_plain_quota_but_short_of_the_carried_target_makes_no_candidate() -> None:
    days = [(date(2026, 4, 8), Decimal(420_000)), (date(2026, 4, 25), Decimal(156_000))]
    assert performance.reached_on(days, Q) == (date(2026, 4, 8), Decimal(420_000))
    assert performance.crossing("wang", "east", days, Q + Q) is None  # 576,000 < 750,000


def test_k5_a_dealers_target_counts_the_agreed_amount_for_the_months_its_agreement_covers() -> None:
    amount, quarter = Decimal("10000"), [APR, MAY, JUN]
    assert performance.agreed_target(amount, APR, 12, None, quarter) == Decimal("30000.00")
    # D3: the agreement starts with the first order's month; before it nothing is asked.
    assert performance.agreed_target(amount, MAY, 12, None, quarter) == Decimal("20000.00")
    # The term ends after two months; a termination in May (D7) still counts May.
    assert performance.agreed_target(amount, MAR, 2, None, quarter) == Decimal("10000.00")
    assert performance.agreed_target(amount, APR, 12, date(2026, 5, 20), quarter) == Decimal(
        "20000.00")
    assert performance.agreed_target(amount, JUN.next(), 12, None, quarter) is None
    assert performance.agreed_target(None, APR, 12, None, quarter) is None  # no agreement (END)
