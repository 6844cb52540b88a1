"""Spare-parts pools of authorized repair centres (S1) and the national pool: monthly allocations
(S2, once per month) and draws at cost within the balance (S3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInputError, RuleViolationError
from domain.ids import named_id


class SparePartsPool(Aggregate):
    @staticmethod
    def create_id(pool: str) -> UUID:
        return named_id("pool", pool)

    @event("Opened")
    def __init__(self, pool: str, region: str, opened_on: date) -> None:
        self.pool = pool  # the repair centre's dealer id, or "national"
        self.region = region
        self.opened_on = opened_on
        self.allocations: dict[str, Decimal] = {}
        self.drawn = Decimal("0.00")
        self.closed_on: date | None = None

    @property
    def allocated(self) -> Decimal:
        return sum(self.allocations.values(), Decimal("0.00"))

    @property
    def balance(self) -> Decimal:
        return self.allocated - self.drawn

    def allocate(self, month: str, basis: Decimal, amount: Decimal, policy_version: str) -> bool:
        """S2: one allocation per pool and month; a repeated close allocates nothing."""
        if month in self.allocations:
            return False
        self._allocate(month=month, basis=basis, amount=amount, policy_version=policy_version)
        return True

    @event("Allocated")
    def _allocate(self, month: str, basis: Decimal, amount: Decimal, policy_version: str) -> None:
        self.allocations[month] = amount

    def draw(self, drawn_on: date, part: str, qty: int, value: Decimal) -> None:
        if self.closed_on is not None:
            raise RuleViolationError("S1", f"the pool was closed on {self.closed_on}")
        if not part.strip():
            raise InvalidInputError("part: must not be empty", field="part")
        if qty <= 0:
            raise InvalidInputError("qty: must be greater than 0", field="qty")
        if value <= 0:
            raise InvalidInputError("value: must be positive", field="value")
        if drawn_on < self.opened_on:
            raise RuleViolationError("S3", "drawn_on is before the pool opened", field="drawn_on")
        if value > self.balance:
            raise RuleViolationError(
                "S3", f"draw of {value} exceeds the pool's balance {self.balance}", field="value"
            )
        self._draw(drawn_on=drawn_on, part=part, qty=qty, value=value)

    @event("Drawn")
    def _draw(self, drawn_on: date, part: str, qty: int, value: Decimal) -> None:
        self.drawn += value

    def close(self, closed_on: date, reason: str) -> None:
        if self.closed_on is None:
            self._close(closed_on=closed_on, reason=reason)

    @event("Closed")
    def _close(self, closed_on: date, reason: str) -> None:
        self.closed_on = closed_on
