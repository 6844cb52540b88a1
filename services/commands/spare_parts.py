"""Spare-parts commands (S2, S3): draws from a repair centre's pool and the close's monthly
allocation of every pool. The pool opens with the repair-centre agreement (S1, `dealers.py`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain import limits
from domain.errors import RuleViolationError
from domain.ids import NATIONAL_POOL
from domain.spare_parts import SparePartsPool
from domain.values import Month, to_whole
from services.commands.base import Done, LedgerBase, command


class SparePartsCommands(LedgerBase):
    def _pool_or_open(self, pool: str, region: str, opened_on: date) -> SparePartsPool:
        """A pool to allocate to: the national pool opens on its first allocation."""
        return self._get_or(
            SparePartsPool, SparePartsPool.create_id(pool),
            lambda: SparePartsPool(pool=pool, region=region, opened_on=opened_on),
        )

    @command
    def draw_spare_parts(
        self,
        pool: str,
        drawn_on: date | None,
        part: str,
        qty: int,
        value: Decimal | str,
    ) -> Done[SparePartsPool]:
        """S3: a draw at cost value within the pool's balance."""
        pool_key = pool if pool == NATIONAL_POOL else str(self.get_dealer(pool).id)
        target = self.get_pool(pool_key)
        drawn_on = drawn_on or self.clock()
        units = to_whole(qty, "qty")
        max_qty = self.policy.in_force(drawn_on).max_draw_qty
        if units > max_qty:
            raise RuleViolationError(
                "O1", f"qty: a draw holds at most {max_qty} units ({units} given)", field="qty"
            )
        target.draw(drawn_on, part, units, limits.to_money(value, "value", signed=True))
        return Done(target, self._save(target))

    @command
    def allocate_spare_parts(
        self,
        pool: str,
        region: str,
        month: str,
        basis: Decimal,
        amount: Decimal,
        policy_version: str,
    ) -> Done[SparePartsPool]:
        """S2: one allocation per pool and month (the national pool opens on its first one)."""
        target = self._pool_or_open(pool, region, Month.parse(month).first_day)
        target.allocate(month, basis, amount, policy_version)
        return Done(target, self._save(target))

    @command
    def allocate_spare_parts_month(
        self, month: str, allocations: list[dict[str, Any]]
    ) -> Done[list[SparePartsPool]]:
        """S2: allocate every pool its share of a closed month ({pool, region, basis, amount,
        policy_version}) in bounded saves; pools already allocated for the month are left alone,
        so a run interrupted between two saves is resumed by running it again."""
        first_day = Month.parse(month).first_day
        changed: list[SparePartsPool] = []
        for item in allocations:
            target = self._pool_or_open(str(item["pool"]), str(item["region"]), first_day)
            target.allocate(month, item["basis"], item["amount"], str(item["policy_version"]))
            if target.pending_events:
                changed.append(target)
        return Done(changed, self._save_bounded(changed))
