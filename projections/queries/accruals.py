"""The accrual journal's figures (domain/accruals.py) gathered from the read model: the month's
rebate entries (with the quarter's at a quarter end), the pools' allocations (S2), the close's
date and the accounts of the policy version in force on the month's first day (R4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain import accruals
from domain.values import Month, Quarter
from projections.queries.rebates import RebateQueries
from projections.queries.spare_parts import SpareQueries


class AccrualQueries(SpareQueries, RebateQueries):
    def accruals(self, month: str) -> dict[str, Any]:
        """The journal of a month end: lines (date, account, debit, credit, dealer, reference), each
        account's balance, and the totals (debit = credit)."""
        parsed = Month.parse(month)
        quarter = Quarter.of(parsed.first_day)
        entries = list(self.rebates(str(parsed)))
        if quarter.months[-1] == parsed:
            entries += [e for e in self.rebates(str(quarter)) if e["period"] == str(quarter)]
        with self.view.reading() as db:
            close = db.one("SELECT closed_on FROM @closes WHERE month = ?", (str(parsed),))
            accounts = self._book(db).in_force(parsed.first_day).accounts
        rebates = [
            accruals.Rebate(e["dealer_id"], e["dealer_name"], e["period"], e["kind"],
                            Decimal(e["amount"]), e["status"] == "posted", e.get("slip_id"))
            for e in entries if e["period"] == str(parsed) or e["period"] == str(quarter)
        ]
        pools = [accruals.Allocation(p["pool"], p["pool_name"], Decimal(p["allocated"]))
                 for p in self.spare_budgets(str(parsed))]
        closed_on = date.fromisoformat(str(close["closed_on"])) if close is not None else None
        lines = accruals.journal(parsed.last_day, closed_on, rebates, pools, accounts)
        debit = sum((x.debit for x in lines), accruals.ZERO)
        credit = sum((x.credit for x in lines), accruals.ZERO)
        return {
            "period": str(parsed),
            "closed_on": closed_on,
            "lines": [
                {"date": x.date, "account": x.account, "debit": x.debit, "credit": x.credit,
                 "dealer_id": x.dealer_id, "dealer_name": x.dealer_name, "reference": x.reference}
                for x in lines
            ],
            "balances": [{"account": k, "balance": v} for k, v in sorted(accruals.balances(lines).items())],
            "totals": {"debit": debit, "credit": credit},
        }
