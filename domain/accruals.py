"""The accrual journal of a month end (R5, S2 in the ledger's books): per dealer the rebate accrued
and not yet posted, and the spare-parts fund allocated, as balanced journal lines with the
policy's account codes; the posting at a close reverses the accrual it replaces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Rebate:
    """One rebate entry of the month (monthly, the quarter's at a quarter end, a correction)."""

    dealer_id: str
    dealer_name: str
    period: str
    kind: str
    amount: Decimal
    posted: bool  # the close posted it on a slip
    slip_id: str | None = None


@dataclass(frozen=True)
class Allocation:
    """A spare-parts pool's allocation of the month (S2); `pool` is the repair centre's id."""

    pool: str
    pool_name: str
    amount: Decimal


@dataclass(frozen=True)
class Line:
    date: date
    account: str
    debit: Decimal
    credit: Decimal
    dealer_id: str
    dealer_name: str
    reference: str


def _pair(on: date, debit: str, credit: str, amount: Decimal, who: tuple[str, str],
          reference: str) -> list[Line]:
    """A debit and its credit; a negative amount (a correction down) swaps the sides."""
    if amount < 0:
        debit, credit, amount = credit, debit, -amount
    return [Line(on, debit, amount, ZERO, *who, reference),
            Line(on, credit, ZERO, amount, *who, reference)]


def journal(month_end: date, closed_on: date | None, rebates: Sequence[Rebate],
            allocations: Sequence[Allocation], accounts: Mapping[str, str]) -> list[Line]:
    """The month's journal: each rebate accrued at the month end (expense to accrued rebates);
    where the close posted it, on the close's date the accrual reversed and the posting to rebates
    payable (referencing the slip); each pool's spare-parts allocation (expense to the fund)."""
    lines: list[Line] = []
    expense, accrued, payable = (accounts["rebate_expense"], accounts["rebate_accrued"],
                                 accounts["rebate_payable"])
    for r in rebates:
        if r.amount == 0:
            continue
        who = (r.dealer_id, r.dealer_name)
        lines += _pair(month_end, expense, accrued, r.amount, who, f"accrual {r.kind} {r.period}")
        if r.posted and closed_on is not None:
            lines += _pair(closed_on, accrued, expense, r.amount, who,
                           f"reversal of accrual {r.kind} {r.period}")
            lines += _pair(closed_on, expense, payable, r.amount, who, f"slip {r.slip_id}")
    for a in allocations:
        if a.amount != 0:
            lines += _pair(month_end, accounts["spare_parts_expense"], accounts["spare_parts_fund"],
                           a.amount, (a.pool, a.pool_name), f"spare-parts allocation {month_end:%Y-%m}")
    return lines


def balances(lines: Sequence[Line]) -> dict[str, Decimal]:
    """Each account's balance (debit − credit): what the journal leaves on the books."""
    found: dict[str, Decimal] = {}
    for line in lines:
        found[line.account] = found.get(line.account, ZERO) + line.debit - line.credit
    return found
