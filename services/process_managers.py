"""What a month close sets off (O6): each dealer's rebate slip (R5) and every pool's allocation
(S2), read as at the close's log position and issued by idempotent commands (replay-safe)."""

from __future__ import annotations

import logging
from datetime import date

from domain.values import Month
from projections.model import periods
from projections.queries import Reports
from projections.views import ChannelView
from services.application import ChannelLedger

log = logging.getLogger(__name__)


class PeriodCloseManager:
    def __init__(self, app: ChannelLedger, view: ChannelView, reports: Reports):
        self.app = app
        self.view = view
        self.reports = reports

    def pending(self) -> list[tuple[Month, int, date]]:
        """Closes the projection has seen whose follow-up is not yet done, in month order."""
        with self.view.reading() as db:
            return periods.pending(db)

    def run_pending(self) -> int | None:
        """Carry out every pending close; returns the last log position written, if any."""
        last: int | None = None
        for month, position, closed_on in self.pending():
            written = self.follow_up(month, position, closed_on)
            last = written if written is not None else last
        return last

    def follow_up(self, month: Month, close_position: int, closed_on: date) -> int | None:
        slips = self.reports.closing_slips(month, close_position)
        # The events behind each slip, whose digests the slip records (audit): all dealers' at once.
        evidence = self.reports.slip_evidence(month, close_position)
        for slip in slips:
            slip["evidence"] = evidence.get(slip["dealer_id"], [])
        # Both commands save in bounded batches and skip what an interrupted run saved; the close
        # is marked done only once both have returned, so a crash in between is run again.
        issued = self.app.issue_slips(str(month), closed_on, close_position, slips)
        allocations = self.reports.spare_allocation(month, close_position)
        allocated = self.app.allocate_spare_parts_month(str(month), allocations)
        written = [p for p in (issued.position, allocated.position) if p is not None]
        with self.view.writing() as db:
            periods.mark_done(db, month, max(written) if written else close_position)
        log.info(
            "close of %s: %d slips issued, %d pools allocated", month, len(issued.value), len(allocated.value)
        )
        return max(written) if written else None
