"""The spare-parts family's queries (S2, S3): each pool's month (allocation or accrual, draws,
balances) and the allocations a close makes; `domain.allocation` divides the money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain import allocation
from domain.ids import NATIONAL_POOL
from domain.values import Month
from infra.sql import Db
from projections.queries import common
from projections.queries.common import EVERYTHING, ZERO, QueryBase, bounds
from projections.records import from_cents


class SpareQueries(QueryBase):
    """S2/S3 over the view; the close's allocation as known at its log position."""

    def _shares(self, db: Db, month: Month, as_of: int | None) -> list[allocation.PoolShare]:
        """S2: the regions' net sales over the window and the repair centres open at the close, as
        known at `as_of`; the domain divides the money."""
        book = self._book(db)
        window = allocation.window(month, book)
        sales = common.sums(db, "region", window[0].first_day.isoformat(), month.last_day.isoformat(), as_of)
        last, cap = month.last_day.isoformat(), as_of if as_of is not None else EVERYTHING
        centres: dict[str, str] = {}
        for pool in db.all(
            "SELECT * FROM @pools WHERE pool <> ? AND opened_position <= ? AND opened_on <= ? "
            "ORDER BY opened_position",
            (NATIONAL_POOL, cap, last),
        ):
            closed = pool["closed_position"] is not None and pool["closed_position"] <= cap
            if not (closed and pool["closed_on"] <= last):
                centres[pool["region"]] = pool["pool"]
        return allocation.allocate(month, {region: s.net for region, s in sales.items()}, centres, book)

    def spare_allocation(self, month: Month, as_of: int) -> list[dict[str, Any]]:
        """S2: the allocations the close of `month` makes, as known at its log position."""
        with self.view.reading() as db:
            shares = self._shares(db, month, as_of)
        return [
            {
                "pool": s.pool,
                "region": s.region,
                "basis": s.basis,
                "amount": s.amount,
                "policy_version": s.policy_version,
            }
            for s in shares
        ]

    def spare_budgets(self, month: str) -> list[dict[str, Any]]:
        """Each pool's month: its allocation (S2; an accrual while the month is open), the draws
        dated in the month (S3), the balance carried in and the balance at the month's end."""
        parsed = Month.parse(month)
        first, last = bounds(parsed)
        with self.view.reading() as db:
            settled = str(parsed) in common.settled(db)
            pools = {r["pool"]: dict(r) for r in db.all("SELECT * FROM @pools WHERE opened_on <= ?", (last,))}
            allocations = [
                dict(r) for r in db.all("SELECT * FROM @allocations WHERE month <= ?", (str(parsed),))
            ]
            draws = [dict(r) for r in db.all("SELECT * FROM @draws WHERE drawn_on <= ?", (last,))]
            names = {k: v["name"] for k, v in common.dealer_rows(db).items()}
            shares = {s.pool: s for s in self._shares(db, parsed, None)}
        this_month = {a["pool"]: a for a in allocations if a["month"] == str(parsed)}
        keys = set(pools) | set(this_month) | (set() if settled else set(shares))
        rows = []
        for pool in sorted(keys, key=lambda p: (p == NATIONAL_POOL, p)):
            before = sum(
                (
                    from_cents(a["amount_cents"])
                    for a in allocations
                    if a["pool"] == pool and a["month"] < str(parsed)
                ),
                ZERO,
            )
            before -= sum(
                (Decimal(d["value"]) for d in draws if d["pool"] == pool and d["drawn_on"] < first), ZERO
            )
            drawn = sum(
                (Decimal(d["value"]) for d in draws if d["pool"] == pool and d["drawn_on"] >= first), ZERO
            )
            share = shares.get(pool)
            if pool in this_month:
                a = this_month[pool]
                allocated, basis = from_cents(a["amount_cents"]), Decimal(a["basis"])
                status, version = "allocated", a["policy_version"]
            elif share is not None and not settled:
                allocated, basis, status, version = share.amount, share.basis, "accrued", share.policy_version
            else:
                allocated, basis, status, version = ZERO, ZERO, "none", None
            region = pools[pool]["region"] if pool in pools else (share.region if share else pool)
            figures = allocation.PoolMonth(carried_over=before, allocated=allocated, drawn=drawn)
            rows.append(
                {
                    "pool": pool,
                    "pool_name": "national pool" if pool == NATIONAL_POOL else names.get(pool, pool),
                    "region": region,
                    "month": str(parsed),
                    "regions": list(share.regions) if share else [],
                    "basis": basis,
                    "allocated": figures.allocated,
                    "drawn": figures.drawn,
                    "carried_over": figures.carried_over,
                    "balance": figures.balance,
                    "status": status,
                    "policy_version": version,
                }
            )
        return rows
