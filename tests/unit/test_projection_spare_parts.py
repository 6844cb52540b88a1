"""S2: each month's allocation — per pool 1 % of its region's trailing three months, regions
without a repair centre to the national pool — sums to exactly the rounded 1 % of company net
sales, whatever the regions' figures; and the same holds end to end through closes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.allocation import PoolMonth, allocate, window
from domain.ids import NATIONAL_POOL
from domain.values import Month, money
from tests.builders import POLICY
from tests.unit.test_projection import World, new_runtime

MAY = Month(2026, 5)
REGIONS = ["east", "north", "south", "west", "central"]
CENTS = st.integers(min_value=-(10**8), max_value=10**10).map(lambda c: Decimal(c).scaleb(-2))


def test_s2_the_window_is_the_three_months_ending_with_the_closed_month() -> None:
    assert window(MAY, POLICY) == [Month(2026, 3), Month(2026, 4), Month(2026, 5)]


def test_s2_a_region_without_repair_centre_feeds_the_national_pool() -> None:
    shares = allocate(
        MAY, {"east": Decimal("450000.00"), "north": Decimal("160000.00")}, {"east": "pool-east"}, POLICY
    )
    got = {s.pool: (s.basis, s.amount, s.regions) for s in shares}
    assert got == {
        "pool-east": (Decimal("450000.00"), Decimal("4500.00"), ("east",)),
        NATIONAL_POOL: (Decimal("160000.00"), Decimal("1600.00"), ("north",)),
    }


def test_s2_the_rounding_remainder_goes_to_the_largest_remainders_once() -> None:
    # Exact shares 0.333, 0.333, 0.334 → floors 0.33 each; the total 1.00 needs one more cent,
    # which goes to the largest remainder (0.334, the national pool's).
    shares = allocate(
        MAY,
        {"a": Decimal("33.30"), "b": Decimal("33.30"), "c": Decimal("33.40")},
        {"a": "pool-a", "b": "pool-b"},
        POLICY,
    )
    assert {s.pool: s.amount for s in shares} == {
        "pool-a": Decimal("0.33"),
        "pool-b": Decimal("0.33"),
        NATIONAL_POOL: Decimal("0.34"),
    }


@given(
    sales=st.dictionaries(st.sampled_from(REGIONS), CENTS, max_size=5),
    covered=st.sets(st.sampled_from(REGIONS)),
)
@settings(max_examples=300, deadline=None)
def test_s2_pools_together_get_exactly_the_rounded_one_percent_of_company_net_sales(
    sales: dict[str, Decimal], covered: set[str]
) -> None:
    centres = {region: f"centre-{region}" for region in covered}
    shares = allocate(MAY, sales, centres, POLICY)
    rate = POLICY.in_force(MAY.first_day).spare_parts_rate
    total = sum(sales.values(), Decimal(0))
    assert sum(s.amount for s in shares) == money(rate * total)
    assert {s.pool for s in shares} == set(centres.values()) | {NATIONAL_POOL}
    for share in shares:
        assert share.amount == money(share.amount)  # whole cents
        assert abs(share.amount - rate * share.basis) < Decimal("0.01")  # within a cent
    fed = sorted(r for s in shares for r in s.regions)
    assert fed == sorted(set(sales) | covered)


@given(
    sales=st.lists(
        st.tuples(
            st.sampled_from(["Alpha", "Beta", "Gamma"]),
            st.integers(0, 150),
            st.integers(1, 250_000),
            st.booleans(),
        ),
        min_size=1,
        max_size=10,
    )
)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_s2_every_closed_months_allocations_sum_to_one_percent_of_the_trailing_quarter(
    sales: list[tuple[str, int, int, bool]],
) -> None:
    rt = new_runtime()
    try:
        world = World(rt)
        world.setup()  # Alpha is the east repair centre; north and west feed the national pool
        for name, day, units, back in sorted(sales, key=lambda s: s[1]):
            on = date(2026, 4, 1) + timedelta(days=day)
            world.close_due(on)
            world.sell(name, units, on)
            if back:
                world.give_back(name, units // 2 + 1, on)
        world.close_due(date(2026, 10, 1))
        for month in (Month(2026, m) for m in range(4, 10)):
            months = window(month, POLICY)
            company = sum(
                (r["net_sales"] for m in months for r in rt.reports.statistics(str(m))["regions"]),
                Decimal(0),
            )
            rows = rt.reports.spare_budgets(str(month))
            assert all(r["status"] == "allocated" for r in rows)
            rate = POLICY.in_force(month.first_day).spare_parts_rate
            assert sum(r["allocated"] for r in rows) == money(rate * company)
            assert [a for a in rt.app.get_pool("national").allocations].count(str(month)) == 1
    finally:
        rt.close()


def test_s3_the_unused_balance_carries_into_the_next_month() -> None:
    month = PoolMonth(carried_over=Decimal("4500.00"), allocated=Decimal("10700.00"),
                      drawn=Decimal("1000.00"))
    assert month.balance == Decimal("14200.00")
