"""Period commands (O6): closing a month, with the seal of the log range it covers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from eventsourcing.domain import Aggregate

from domain.log_seal import LogSeal
from domain.period import AccountingCalendar
from domain.values import Month
from infra import integrity
from services.commands.base import Done, LedgerBase, command


class PeriodCommands(LedgerBase):
    @command
    def close_period(self, month: str | Month, closed_on: date | None = None) -> Done[AccountingCalendar]:
        """O6: close a month; the close records the log range it covers and the chain hash. Its
        seal (each event's digest, which lets the audit name an altered event) goes out first, in
        bounded saves, whatever the size of the month; the MonthClosed event, saved last,
        authenticates it through the chain hash."""
        month = month if isinstance(month, Month) else Month.parse(month)
        calendar = self.get_calendar()
        closed_on = closed_on or self.clock()
        calendar.check_can_close(month, closed_on)  # before reading the log it would seal
        covers_to = self.recorder.max_notification_id() or 0
        sealer = integrity.Sealer(calendar.last_hash)
        covered = integrity.read_range(self.recorder, calendar.last_position + 1, covers_to)
        seals: Iterator[Aggregate] = (
            LogSeal.of_close(str(month), covers_to, i, part.positions, part.digests)
            for i, part in enumerate(sealer.parts(covered))
        )
        # Each batch is refused once the calendar has moved (another close got in): then the
        # command runs again on fresh state and is refused as a close of a closed month. Parts
        # an interrupted attempt left are named after its covers_to: a retry covers them (they
        # are events like any other) and names its own parts after its own covers_to.
        self._save_bounded(seals, read=(calendar,))
        calendar.close(month, closed_on, covers_to, sealer.chain_hash, seal_parts=sealer.count)
        # The close is saved last, so Done.position is the MonthClosed event's position.
        return Done(calendar, self._save(calendar))
