"""Performance-table rules K2–K4 as pure functions: rankings with ties, the month's target with the
previous month's shortfall carried in, achievement and the review flags."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from domain.values import Month

# K4 (seed): achievement is measured "over the last three months".
ACHIEVEMENT_MONTHS = 3
RATIO = Decimal("0.0001")

T = TypeVar("T")


def rank(items: Sequence[T], score: Callable[[T], Decimal]) -> list[tuple[int, T]]:
    """Competition ranking (1, 2, 2, 4): equal figures share a rank. `items` come pre-sorted."""
    ranked: list[tuple[int, T]] = []
    previous: Decimal | None = None
    current = 0
    for index, item in enumerate(items, start=1):
        value = score(item)
        if value != previous:
            current, previous = index, value
        ranked.append((current, item))
    return ranked


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(RATIO, rounding=ROUND_HALF_UP)


def target(
    month: Month, net: Mapping[Month, Decimal], quota: Callable[[Month], Decimal], first: Month
) -> Decimal:
    """K4 (default reading): the month's quota plus the previous month's shortfall against its
    own quota; a shortfall carries one month, it does not snowball."""
    previous = month.prev()
    if previous < first:
        return quota(month)
    shortfall = quota(previous) - net.get(previous, Decimal(0))
    return quota(month) + max(shortfall, Decimal(0))


def achievement(
    last: Month, net: Mapping[Month, Decimal], quota: Callable[[Month], Decimal], first: Month
) -> tuple[Decimal, Decimal, Decimal | None]:
    """K4: net sales over the last three months ÷ quota over those months (months before the
    salesperson's first are not counted). Returns (net, quota, ratio)."""
    months = [m for m in (last.plus(-k) for k in range(ACHIEVEMENT_MONTHS)) if m >= first]
    total = sum((net.get(m, Decimal(0)) for m in months), Decimal(0))
    owed = sum((quota(m) for m in months), Decimal(0))
    return total, owed, ratio(total, owed)


def flags(
    last: Month,
    net: Mapping[Month, Decimal],
    quota: Callable[[Month], Decimal],
    first: Month,
    policy: Any,
) -> list[str]:
    """K4: achievement below the probation ratio over the last `probation_months` months →
    probation extended; each of the last `dismissal_months` months below quota → dismissal
    review. Only months the salesperson has worked count; too short a history raises no flag."""
    result: list[str] = []
    months = [last.plus(-k) for k in range(policy.probation_months)]
    if months and all(m >= first for m in months):
        total = sum((net.get(m, Decimal(0)) for m in months), Decimal(0))
        owed = sum((quota(m) for m in months), Decimal(0))
        if owed > 0 and total < owed * policy.probation_ratio:
            result.append("probation_extended")
    months = [last.plus(-k) for k in range(policy.dismissal_months)]
    if months and all(m >= first for m in months) and all(net.get(m, Decimal(0)) < quota(m) for m in months):
        result.append("dismissal_review")
    return result
