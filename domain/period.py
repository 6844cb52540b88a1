"""The accounting calendar (O6): months close in order, and a closed month takes no new
deliveries, returns or payments. Each close records the log position it covers and a hash chain
over the events up to it, for the audit."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleViolationError
from domain.ids import CALENDAR_ID
from domain.values import Month


class AccountingCalendar(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return CALENDAR_ID

    @event("Opened")
    def __init__(self) -> None:
        self.closes: list[dict[str, object]] = []

    @property
    def closed_months(self) -> list[str]:
        return [str(c["month"]) for c in self.closes]

    @property
    def last_closed(self) -> Month | None:
        return Month.parse(self.closed_months[-1]) if self.closes else None

    @property
    def last_hash(self) -> str:
        return str(self.closes[-1]["chain_hash"]) if self.closes else ""

    @property
    def last_position(self) -> int:
        return int(str(self.closes[-1]["covers_to"])) if self.closes else 0

    def is_closed(self, month: Month) -> bool:
        last = self.last_closed
        return last is not None and month <= last

    def check_open(self, day: date, field: str) -> None:
        """O6: nothing new is dated in a closed month."""
        if self.is_closed(Month.of(day)):
            raise RuleViolationError(
                "O6", f"{field} {day} falls in closed month {Month.of(day)}", field=field
            )

    def check_can_close(self, month: Month, closed_on: date) -> None:
        """O6: months close in order, once, and not before their last day."""
        last = self.last_closed
        if last is not None and month <= last:
            raise RuleViolationError("O6", f"month {month} is already closed", field="month")
        if last is not None and month != last.next():
            raise RuleViolationError(
                "O6", f"months close in order: close {last.next()} before {month}", field="month"
            )
        if closed_on < month.last_day:
            raise RuleViolationError(
                "O6", f"month {month} cannot close before its last day", field="closed_on"
            )

    def close(
        self, month: Month, closed_on: date, covers_to: int, chain_hash: str, seal_parts: int = 0
    ) -> None:
        self.check_can_close(month, closed_on)
        self._close(
            month=str(month),
            closed_on=closed_on,
            covers_from=self.last_position + 1,
            covers_to=covers_to,
            previous_hash=self.last_hash,
            chain_hash=chain_hash,
            seal_parts=seal_parts,
        )

    @event("MonthClosed")
    def _close(
        self,
        month: str,
        closed_on: date,
        covers_from: int,
        covers_to: int,
        previous_hash: str,
        chain_hash: str,
        seal_parts: int = 0,  # LogSeal parts saved with the close (audit verify)
    ) -> None:
        self.closes.append(
            {
                "month": month,
                "closed_on": closed_on,
                "covers_from": covers_from,
                "covers_to": covers_to,
                "chain_hash": chain_hash,
            }
        )
