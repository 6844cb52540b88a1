"""Salesperson performance, K2 and K4 as RULES.md reads them, as pure functions: quota months, the
target with the unmet target carried in, achievement, the review flags and the region's bonus;
and the competition ranking the tables share (K2, K3).

Readings fixed here:
- A salesperson's quota months run from the month in which the first of their dealers registered
  with them (a dealer passed to them by reassignment, D8, counts from the reassignment) to the
  period asked for; months before count for nothing.
- Target = quota + the previous quota month's unmet target (max(target − net sales, 0)), so a
  shortfall carries on, month after month, until net sales make it up.
- Each month's quota, and the flag numbers, come from the policy version in force on that month's
  first day (R4); the probation terms from the one in force when the first quota month began.
- A flag shows in the ranking of the period in which it is decided, and in no other: probation
  extended in the last of the first `probation_months` quota months (the second, by default);
  dismissal review in every month that ends `dismissal_months` consecutive quota months each below
  quota. A quarter shows the flags decided in any of its months, so a quarter's flags are the union
  of its months' flags.
- A quarter has no target of its own in K4: its row's target is the unmet target carried into its
  first quota month plus the plain quota of its quota months."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TypeVar

from domain.policy import PolicyBook
from domain.values import Month, money

# K4 (seed): achievement is measured "over the last three months".
ACHIEVEMENT_MONTHS = 3
RATIO = Decimal("0.0001")
ZERO = Decimal("0.00")

T = TypeVar("T")


class Flag(StrEnum):
    PROBATION_EXTENDED = "probation_extended"  # K4: the first two quota months below 80 %
    DISMISSAL_REVIEW = "dismissal_review"  # K4: three consecutive quota months below quota


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


def home_region(dealers_by_region: Mapping[str, int]) -> str:
    """The region a salesperson belongs to (K2: "of each region"): where most of the dealers they
    own are; on a tie, the first by name."""
    return min(dealers_by_region, key=lambda region: (-dealers_by_region[region], region))


def quota(month: Month, book: PolicyBook) -> Decimal:
    """K4: the plain quota of a month, as the policy in force on its first day sets it (R4)."""
    return money(book.in_force(month.first_day).quota)


@dataclass(frozen=True)
class QuotaMonth:
    """One quota month of a salesperson (K4)."""

    month: Month
    quota: Decimal
    carried: Decimal  # the previous quota month's unmet target; 0 in the first
    net_sales: Decimal

    @property
    def target(self) -> Decimal:
        return self.quota + self.carried

    @property
    def reached(self) -> bool:
        """K4: the month's target is reached when its net sales reach it."""
        return self.net_sales >= self.target

    @property
    def unmet(self) -> Decimal:
        """What carries into the next month's target."""
        return max(self.target - self.net_sales, ZERO)

    @property
    def below_quota(self) -> bool:
        return self.net_sales < self.quota


def quota_months(
    first: Month, last: Month, net: Mapping[Month, Decimal], book: PolicyBook
) -> list[QuotaMonth]:
    """K4: the quota months from `first` (the salesperson's first) to `last`, each with the unmet
    target of the one before carried in; empty when `last` comes before `first`."""
    result: list[QuotaMonth] = []
    carried = ZERO
    month = first
    while month <= last:
        current = QuotaMonth(month, quota(month, book), carried, net.get(month, ZERO))
        result.append(current)
        carried = current.unmet
        month = month.next()
    return result


def flags_decided_in(month: Month, history: Sequence[QuotaMonth], book: PolicyBook) -> list[Flag]:
    """K4, on plain quota: the flags decided at the end of `month`. `history`: the salesperson's
    quota months from the first, up to `month` at least."""
    if not history:
        return []
    first = history[0].month
    by_month = {m.month: m for m in history}
    if month < first or month not in by_month:
        return []
    result: list[Flag] = []
    start = book.in_force(first.first_day)
    span = start.probation_months
    if span > 0 and month == first.plus(span - 1):
        opening = [by_month[first.plus(k)] for k in range(span)]
        owed = sum((m.quota for m in opening), ZERO)
        sold = sum((m.net_sales for m in opening), ZERO)
        if owed > 0 and sold < owed * start.probation_ratio:
            result.append(Flag.PROBATION_EXTENDED)
    run = book.in_force(month.first_day).dismissal_months
    if run > 0:
        months = [month.plus(-k) for k in range(run)]
        if all(m >= first for m in months) and all(by_month[m].below_quota for m in months):
            result.append(Flag.DISMISSAL_REVIEW)
    return result


@dataclass(frozen=True)
class Standing:
    """A salesperson's figures for a month or a quarter (K2, K4)."""

    net_sales: Decimal  # the period's
    quota: Decimal  # plain quota of the period's quota months
    carried: Decimal  # the unmet target carried into the period's first quota month
    achievement: Decimal | None  # last three quota months: net sales ÷ plain quota
    flags: tuple[Flag, ...]

    @property
    def target(self) -> Decimal:
        return self.quota + self.carried

    @property
    def reached(self) -> bool:
        return self.net_sales >= self.target


def standing(
    months: Sequence[Month], first: Month, net: Mapping[Month, Decimal], book: PolicyBook
) -> Standing:
    """K4 for the period made of `months` (one month, or a quarter's three), for a salesperson
    whose first quota month is `first` and whose net sales by month are `net`."""
    last = months[-1]
    history = quota_months(first, last, net, book)
    inside = [m for m in history if m.month in set(months)]
    recent = history[-ACHIEVEMENT_MONTHS:]
    flags = [flag for m in months for flag in flags_decided_in(m, history, book)]
    return Standing(
        net_sales=sum((net.get(m, ZERO) for m in months), ZERO),
        quota=sum((m.quota for m in inside), ZERO),
        carried=inside[0].carried if inside else ZERO,
        achievement=ratio(
            sum((m.net_sales for m in recent), ZERO), sum((m.quota for m in recent), ZERO)
        ),
        flags=tuple(dict.fromkeys(flags)),
    )


# --- K2: the region's bonus ----------------------------------------------------------------------


def reached_on(daily: Iterable[tuple[date, Decimal]], target: Decimal) -> tuple[date, Decimal] | None:
    """The business day on which month-to-date net sales first reach `target`, with the figure at
    the end of that day. `daily`: each day's net sales, in date order. Days, not events: the order
    in which events were recorded within a day says nothing about who was first."""
    running = ZERO
    for day, amount in daily:
        running += amount
        if running >= target:
            return day, running
    return None


@dataclass(frozen=True)
class Crossing:
    """A salesperson reaching the month's target (K2): on which day, and how far past it they stood
    that evening."""

    salesperson: str
    region: str
    on: date
    past: Decimal


def crossing(
    salesperson: str, region: str, daily: Iterable[tuple[date, Decimal]], target: Decimal
) -> Crossing | None:
    """K2: when a salesperson reached the month's target, if they did; a month without a target to
    reach (no quota month) makes no candidate."""
    if target <= 0:
        return None
    reached = reached_on(daily, target)
    if reached is None:
        return None
    return Crossing(salesperson, region, reached[0], reached[1] - target)


def bonus_winners(crossings: Iterable[Crossing]) -> dict[str, str]:
    """K2: region → the first salesperson to reach their month's target (quota plus carried
    shortfall). Two on the same day: the one further past it that evening, then by name — never
    by the order events were recorded."""
    winners: dict[str, Crossing] = {}
    for c in crossings:
        best = winners.get(c.region)
        if best is None or (c.on, -c.past, c.salesperson) < (best.on, -best.past, best.salesperson):
            winners[c.region] = c
    return {region: c.salesperson for region, c in winners.items()}


def agreed_target(
    monthly_amount: Decimal | None,
    start: Month | None,
    term_months: int | None,
    terminated_on: date | None,
    months: Sequence[Month],
) -> Decimal | None:
    """K5 (default reading): a dealer's target over a period is its agreed monthly amount (the
    formal agreement's, R2's threshold) for each of the period's months the agreement covers:
    from its start month (D3), for its term, up to the month of a termination (D7). None for a
    dealer without an agreement in effect in the period (an industry customer, one not started)."""
    if monthly_amount is None or start is None:
        return None
    last = start.plus(term_months - 1) if term_months else None
    covered = [
        m for m in months
        if m >= start and (last is None or m <= last)
        and (terminated_on is None or m.first_day <= terminated_on)
    ]
    return money(monthly_amount * len(covered)) if covered else None
