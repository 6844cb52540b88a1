"""Rebates R1–R4 and the lines of a rebate confirmation slip (R5, R6) as pure functions: a dealer's
facts of a period (net sales, tier on the period's last day, agreed monthly amount) and the policy
versions the log records in, a typed line out — for the accruals of an open period and for the
lines a close posts. Lines carry figures only; a sentence explaining one is rendered where it is
shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.policy import Bracket, PolicyBook, PolicyVersion
from domain.values import CENT, Month, Quarter, Tier, money

ZERO = Decimal("0")


class RebateKind(StrEnum):
    MONTHLY = "monthly"  # R2
    QUARTERLY = "quarterly"  # R3
    CORRECTION = "correction"  # R6: finance's decision on a dispute, not computed here


@dataclass(frozen=True)
class RebateFacts:
    """What a dealer's rebate of one period depends on, as gathered from the log."""

    period: Month | Quarter
    net_sales: Decimal  # O5: delivered − returned in the period, by business date
    tier: Tier  # R4: on the period's last day
    agreed: Decimal | None = None  # R2: the agreed monthly amount (monthly rebates only)


@dataclass(frozen=True)
class RebateLine:
    """One rebate figure and what it rests on (R7): the basis, the step it reached and the next
    step up, so that a console can show how far away the next rate is."""

    kind: RebateKind
    period: Month | Quarter
    basis: Decimal  # the period's net sales (O5)
    rate: Decimal  # the rate applied; 0 when nothing is earned
    amount: Decimal  # rounded half up to the cent, once
    policy_version: str  # R4: the version in force on the period's first day
    tier: Tier  # R4: the tier on the period's last day
    threshold: Decimal | None  # monthly: the agreed amount; quarterly: the bracket reached
    reached: bool
    rule: str  # "R2" or "R3"
    next_threshold: Decimal | None  # the least net sales that earn the next rate up, if any
    next_rate: Decimal | None

    @property
    def distance(self) -> Decimal | None:
        """How much more net sales the period needs to reach the next rate (None at the top)."""
        return distance(self.basis, self.next_threshold)

    def slip_line(self, number: int) -> dict[str, Any]:
        """The line as a `RebateSlip.Issued` event stores it: primitives only, no prose."""
        return {
            "line": number,
            "kind": self.kind.value,
            "period": str(self.period),
            "basis": self.basis,
            "rate": self.rate,
            "amount": self.amount,
            "policy_version": self.policy_version,
            "tier": self.tier.value,
            "threshold": self.threshold,
            "reached": self.reached,
            "rule": self.rule,
            "next_threshold": self.next_threshold,
            "next_rate": self.next_rate,
        }


@dataclass(frozen=True)
class Correction:
    """R6: an accepted dispute's correcting amount, booked in an open month and reported on that
    month's slip."""

    period: Month
    amount: Decimal
    policy_version: str
    slip_id: str  # the disputed slip
    dispute: int
    note: str  # finance's words on the decision, as recorded

    @property
    def kind(self) -> RebateKind:
        return RebateKind.CORRECTION

    def slip_line(self, number: int) -> dict[str, Any]:
        return {
            "line": number,
            "kind": RebateKind.CORRECTION.value,
            "period": str(self.period),
            "basis": None,
            "rate": None,
            "amount": self.amount,
            "policy_version": self.policy_version,
            "tier": None,
            "threshold": None,
            "reached": None,
            "rule": "R6",
            "note": self.note,
            "slip_id": self.slip_id,
            "dispute": self.dispute,
        }


def distance(basis: Decimal, next_threshold: Decimal | None) -> Decimal | None:
    return None if next_threshold is None else max(next_threshold - basis, ZERO)


def within_reach(line: RebateLine, share: Decimal) -> bool:
    """The period's net sales are within `share` (0.10 = 10 %) of the next rate's threshold."""
    return gap_within(line.distance, line.next_threshold, share)


def gap_within(gap: Decimal | None, next_threshold: Decimal | None, share: Decimal) -> bool:
    """`within_reach` over a ledger entry's figures (its distance and next threshold)."""
    return gap is not None and next_threshold is not None and gap <= next_threshold * share


def policy_for(period: Month | Quarter, book: PolicyBook) -> PolicyVersion:
    """R4: the policy version in force on the period's first day."""
    return book.in_force(period.first_day)


def earns_rebates(
    period: Month | Quarter, tier: Tier, signed_on: date | None, terminated_on: date | None
) -> bool:
    """R1, R5: a dealer earns in a period once its formal agreement is signed by the period's end,
    unless it was terminated before the period began. Industry customers (END) earn none."""
    if tier == Tier.END or signed_on is None or signed_on > period.last_day:
        return False
    return terminated_on is None or terminated_on >= period.first_day


def _earning(threshold: Decimal) -> Decimal:
    # R4: only positive net sales earn, so the least figure that earns is at least one cent.
    return max(threshold, CENT)


def monthly_rebate(
    month: Month, net_sales: Decimal, tier: Tier, agreed: Decimal | None, book: PolicyBook
) -> RebateLine:
    """R2: the tier's rate on the month's net sales once they reach the agreed monthly amount;
    R4: tier on the month's last day (given), policy in force on its first day, and net sales that
    are not positive earn zero, whatever the agreed amount."""
    policy = policy_for(month, book)
    tier_rate = policy.monthly_rate(tier)
    reached = agreed is not None and net_sales >= agreed and net_sales > 0
    rate = tier_rate if reached else ZERO
    pending = agreed is not None and not reached
    return RebateLine(
        kind=RebateKind.MONTHLY,
        period=month,
        basis=net_sales,
        rate=rate,
        amount=money(net_sales * rate) if reached else money(ZERO),
        policy_version=policy.id,
        tier=tier,
        threshold=agreed,
        reached=reached,
        rule="R2",
        next_threshold=_earning(agreed) if pending and agreed is not None else None,
        next_rate=tier_rate if pending else None,
    )


def _next_bracket(policy: PolicyVersion, tier: Tier, net_sales: Decimal) -> Bracket | None:
    if net_sales > 0:
        return policy.next_bracket(tier, net_sales)
    brackets = policy.quarterly_rebate.get(tier, ())
    return brackets[0] if brackets else None


def quarterly_rebate(quarter: Quarter, net_sales: Decimal, tier: Tier, book: PolicyBook) -> RebateLine:
    """R3: the highest bracket [threshold, next threshold) the quarter's net sales reach sets the
    rate for all of them (retroactive step); R4: tier on the quarter's last day, policy in force
    on its first day, and net sales that are not positive earn zero."""
    policy = policy_for(quarter, book)
    bracket = policy.quarterly_bracket(tier, net_sales) if net_sales > 0 else None
    rate = bracket.rate if bracket is not None else ZERO
    upper = _next_bracket(policy, tier, net_sales)
    return RebateLine(
        kind=RebateKind.QUARTERLY,
        period=quarter,
        basis=net_sales,
        rate=rate,
        amount=money(net_sales * rate),
        policy_version=policy.id,
        tier=tier,
        threshold=bracket.threshold if bracket is not None else None,
        reached=bracket is not None,
        rule="R3",
        next_threshold=_earning(upper.threshold) if upper is not None else None,
        next_rate=upper.rate if upper is not None else None,
    )


def rebate(facts: RebateFacts, book: PolicyBook) -> RebateLine:
    """The line a dealer's period earns: R2 for a month, R3 for a quarter."""
    if isinstance(facts.period, Quarter):
        return quarterly_rebate(facts.period, facts.net_sales, facts.tier, book)
    return monthly_rebate(facts.period, facts.net_sales, facts.tier, facts.agreed, book)


_ORDER = {RebateKind.MONTHLY: 0, RebateKind.QUARTERLY: 1, RebateKind.CORRECTION: 2}


def slip_lines(entries: Sequence[RebateLine | Correction]) -> list[dict[str, Any]]:
    """R5: the lines of the slip a close issues to one dealer — the month's entry, the quarter's
    when the month ends one, then the corrections (R6) booked in the month — numbered from 1."""
    ordered = sorted(entries, key=lambda e: _ORDER[e.kind])  # stable: corrections in log order
    return [entry.slip_line(number) for number, entry in enumerate(ordered, start=1)]
