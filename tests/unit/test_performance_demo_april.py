"""K2 and K4 on the demo's April (RULES.md's current reading), hand-computed: wang's first dealer
registers in March, so March is his first quota month (nothing sold in it) and April his second.
April's target is quota plus March's unmet target; probation is judged on plain quota."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain import performance
from domain.performance import Flag
from domain.values import Month
from tests.builders import POLICY

FEB, MAR, APR = Month(2026, 2), Month(2026, 3), Month(2026, 4)
WANG = {MAR: Decimal(0), APR: Decimal(576_000)}  # the demo's net sales of wang (east)


def test_k4_the_first_quota_month_is_the_month_the_first_dealer_registers() -> None:
    months = performance.quota_months(MAR, APR, {FEB: Decimal(900_000), **WANG}, POLICY)
    assert [m.month for m in months] == [MAR, APR]  # February's sales count for nothing
    march, april = months
    assert (march.target, march.unmet) == (Decimal("375000.00"), Decimal("375000.00"))
    # April: 375,000 quota + 375,000 carried = 750,000; 576,000 sold, 174,000 carried into May.
    assert (april.quota, april.carried, april.target) == (
        Decimal("375000.00"), Decimal("375000.00"), Decimal("750000.00"))
    assert not april.reached and april.unmet == Decimal("174000.00")


def test_k4_wangs_probation_is_on_plain_quota_and_k2_gives_him_no_bonus_in_april() -> None:
    months = performance.quota_months(MAR, APR, WANG, POLICY)
    # Probation: 0 + 576,000 = 576,000 < 80 % of 2 × 375,000 plain quota = 600,000.
    assert performance.flags_decided_in(APR, months, POLICY) == [Flag.PROBATION_EXTENDED]
    assert performance.flags_decided_in(MAR, months, POLICY) == []  # decided in the second month
    # At 600,000 exactly (80 %) probation holds; the carried target plays no part in it.
    even = performance.quota_months(MAR, APR, {MAR: Decimal(0), APR: Decimal(600_000)}, POLICY)
    assert performance.flags_decided_in(APR, even, POLICY) == []
    # K2: the bonus needs the month's target, 750,000 — 576,000 reaches plain quota, not that.
    days = [(date(2026, 4, 10), Decimal(400_000)), (date(2026, 4, 20), Decimal(176_000))]
    assert performance.crossing("wang", "east", days, months[-1].target) is None
    reached = performance.crossing("wang", "east", [*days, (date(2026, 4, 28), Decimal(174_000))],
                                   months[-1].target)
    assert reached is not None and reached.on == date(2026, 4, 28)
    assert performance.bonus_winners([reached]) == {"east": "wang"}
