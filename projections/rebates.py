"""The rebate rules R2–R4 as pure functions of net sales, tier and policy: used for accruals while a
period is open and for the entries the close posts on the slips."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from domain.policy import PolicyBook
from domain.values import Month, Quarter, Tier, money

ZERO = Decimal("0")


@dataclass(frozen=True)
class RebateFigure:
    """One rebate entry and why it is what it is (R7)."""

    kind: str  # "monthly" or "quarterly"
    period: str
    basis: Decimal  # the period's net sales (O5)
    rate: Decimal  # the rate applied; 0 when nothing is earned
    amount: Decimal
    policy_version: str
    tier: str
    threshold: Decimal | None  # monthly: the agreed amount; quarterly: the bracket reached
    reached: bool
    rule: str
    why: str

    def as_line(self, number: int) -> dict[str, Any]:
        line = asdict(self)
        line["line"] = number
        return line


def monthly_rebate(
    month: Month, net_sales: Decimal, tier: Tier, agreed: Decimal | None, book: PolicyBook
) -> RebateFigure:
    """R2: the tier's rate on the month's net sales once they reach the agreed monthly amount;
    R4: tier on the month's last day (given), policy in force on its first day."""
    policy = book.in_force(month.first_day)
    tier_rate = policy.monthly_rate(tier)
    reached = agreed is not None and net_sales >= agreed and net_sales > 0
    rate = tier_rate if reached else ZERO
    if agreed is None:
        why = "no agreed monthly amount (no formal agreement)"
    elif reached:
        why = f"net sales {net_sales} reach the agreed {agreed}: tier {tier} rate {tier_rate}"
    elif net_sales <= 0:
        why = f"net sales {net_sales} are not positive: no rebate (R4)"
    else:
        why = f"net sales {net_sales} stay below the agreed {agreed}"
    return RebateFigure(
        kind="monthly",
        period=str(month),
        basis=net_sales,
        rate=rate,
        amount=money(net_sales * rate) if reached else money(ZERO),
        policy_version=policy.id,
        tier=tier.value,
        threshold=agreed,
        reached=reached,
        rule="R2",
        why=why,
    )


def quarterly_rebate(quarter: Quarter, net_sales: Decimal, tier: Tier, book: PolicyBook) -> RebateFigure:
    """R3: the highest bracket [threshold, next) the quarter's net sales reach sets the rate for
    all of them; R4: tier on the quarter's last day, policy in force on its first day; negative
    net sales earn zero."""
    policy = book.in_force(quarter.first_day)
    bracket = policy.quarterly_bracket(tier, net_sales) if net_sales > 0 else None
    rate = bracket.rate if bracket is not None else ZERO
    if bracket is not None:
        why = f"net sales {net_sales} reach the tier-{tier} threshold {bracket.threshold}: rate {rate}"
    elif net_sales <= 0:
        why = f"net sales {net_sales} are not positive: no rebate (R4)"
    else:
        first = policy.quarterly_rebate.get(tier, ())
        lowest = f" {first[0].threshold}" if first else ""
        why = f"net sales {net_sales} stay below the lowest tier-{tier} threshold{lowest}"
    return RebateFigure(
        kind="quarterly",
        period=str(quarter),
        basis=net_sales,
        rate=rate,
        amount=money(net_sales * rate),
        policy_version=policy.id,
        tier=tier.value,
        threshold=bracket.threshold if bracket is not None else None,
        reached=bracket is not None,
        rule="R3",
        why=why,
    )
