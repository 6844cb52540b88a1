"""Spare-parts budgets as pure functions: a closed month's allocation to each pool (S2), from the
regions' net sales over the trailing window and the repair centres open at the close, rounded so
that the pools together get exactly the rounded rate × company net sales; and a pool's month
(S3: balance carried over, allocated, drawn)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from domain.ids import NATIONAL_POOL
from domain.policy import PolicyBook
from domain.values import CENT, Month, money

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PoolShare:
    pool: str  # the repair centre's dealer id, or "national"
    region: str
    basis: Decimal  # net sales of the regions feeding the pool over the window
    amount: Decimal
    policy_version: str
    regions: tuple[str, ...]  # the regions whose sales make the basis


@dataclass(frozen=True)
class PoolMonth:
    """S3: a pool's month — what it carried in, what the month allocated and what was drawn."""

    carried_over: Decimal
    allocated: Decimal
    drawn: Decimal

    @property
    def balance(self) -> Decimal:
        """Unused balance carries over (S3)."""
        return self.carried_over + self.allocated - self.drawn


def window(month: Month, book: PolicyBook) -> list[Month]:
    """S2: the months whose net sales feed the allocation made when `month` closes (the window
    of the policy in force on the month's first day, R4)."""
    size = book.in_force(month.first_day).spare_parts_window_months
    return [month.plus(-k) for k in range(size - 1, -1, -1)]


def allocate(
    month: Month,
    region_sales: Mapping[str, Decimal],
    centres: Mapping[str, str],
    book: PolicyBook,
) -> list[PoolShare]:
    """S2. `region_sales`: each region's net sales over the window; `centres`: region → pool of
    the repair centre open at the close. Regions without one feed the national pool, which always
    gets a share (possibly zero) so that every month's allocation is complete.

    Rounding (once per pool): each pool gets its exact share rounded down to the cent; the cents
    still missing to reach the company total, itself rounded half up once, go one each to the pools
    with the largest remainders (ties: by pool id). So the shares always sum to the rounded total
    and no pool is more than a cent from its exact share. A region whose net sales over the window
    are negative takes its share off its pool (a clawback), as the sum requires."""
    policy = book.in_force(month.first_day)
    rate = policy.spare_parts_rate
    groups: dict[str, tuple[str, list[str]]] = {pool: (region, []) for region, pool in centres.items()}
    groups[NATIONAL_POOL] = (NATIONAL_POOL, [])
    for region in sorted(set(region_sales) | set(centres)):
        pool = centres.get(region, NATIONAL_POOL)
        groups[pool][1].append(region)
    bases = {
        pool: sum((region_sales.get(r, ZERO) for r in regions), ZERO)
        for pool, (_, regions) in groups.items()
    }
    total = money(rate * sum(bases.values(), ZERO))
    exact = {pool: rate * basis for pool, basis in bases.items()}
    floors = {pool: share.quantize(CENT, rounding=ROUND_FLOOR) for pool, share in exact.items()}
    missing = int((total - sum(floors.values(), ZERO)) / CENT)
    by_remainder = sorted(groups, key=lambda pool: (-(exact[pool] - floors[pool]), pool))
    extra = set(by_remainder[:missing])
    return [
        PoolShare(
            pool=pool,
            region=groups[pool][0],
            basis=bases[pool],
            amount=floors[pool] + (CENT if pool in extra else ZERO),
            policy_version=policy.id,
            regions=tuple(groups[pool][1]),
        )
        for pool in sorted(groups)
    ]
