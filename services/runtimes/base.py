"""What both runtimes share: the write side (the application), the read-model view, the queries and
the close's process manager, and how the read model stops at an event it cannot apply
(projections/faults.py): the fault is recorded for every process to see, the process that met it
follows the log no further and runs no follow-ups, and a runtime that starts tries again from the
tracked position. `sync(position)` makes a read after a command see the command's effect."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from projections import faults
from projections.faults import ApplyError, ReadFault, ReadModelStoppedError, is_transient
from projections.projection import SOURCE, ChannelProjection, catch_up
from projections.queries import Reports
from projections.views import ChannelView
from services.application import ChannelLedger
from services.process_managers import PeriodCloseManager

# Both runtimes log here under the name the runtime always had, and faults to
# "channel.read_model", which the server's log shows.
log = logging.getLogger("services.runtime")
fault_log = faults.log


@dataclass(frozen=True)
class ReadState:
    """How far the read model has applied the log, and the fault it is stopped at, if any."""

    position: int
    head: int
    fault: ReadFault | None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"position": self.position, "head": self.head,
                                 "lag": max(self.head - self.position, 0)}
        if self.fault is not None:
            found.update(self.fault.as_dict())
        return found


def read_state(app: ChannelLedger, view: ChannelView) -> ReadState:
    def position() -> int:
        return view.max_tracking_id(SOURCE) or 0

    fault = faults.stopped(view, SOURCE, position)
    return ReadState(position(), app.recorder.max_notification_id() or 0, fault)


class Runtime:
    """The write side (`app`), the read side (`reports`) and what keeps them in step."""

    def __init__(
        self,
        app: ChannelLedger,
        view: ChannelView,
        read_wait: float,
    ):
        if app.name != SOURCE:  # pragma: no cover - a guard for renames
            raise RuntimeError(f"the projection follows {SOURCE!r}, the application is {app.name!r}")
        self.app = app
        self.view = view
        self.read_wait = read_wait
        self.projection = ChannelProjection(view=view)
        self.reports = Reports(view)
        self.managers = PeriodCloseManager(app, view, self.reports)
        self._stopped: ReadFault | None = None  # the fault this process stopped at
        self._retrying: ReadFault | None = None  # a recorded fault this process tries again
        self._reported: ReadFault | None = None  # the last fault this process logged

    @property
    def position(self) -> int:
        """How far the read model has applied the log."""
        return self.view.max_tracking_id(SOURCE) or 0

    # --- faults (every process) -------------------------------------------------------------

    def read_fault(self) -> ReadFault | None:
        """The fault the read model is stopped at, whichever process recorded it."""
        fault = faults.stopped(self.view, SOURCE, lambda: self.position)
        if fault is not None and fault != self._reported:
            fault_log.warning(
                "read model: stopped at %s (recorded %s by %s); its reads answer 503",
                fault.describe(), fault.recorded_at, fault.recorded_by,
            )
        self._reported = fault
        return fault

    def read_state(self) -> ReadState:
        fault = self.read_fault()
        return ReadState(self.position, self.app.recorder.max_notification_id() or 0, fault)

    # --- faults (the process that applies the log) ------------------------------------------------

    def _resume(self) -> None:
        """At start: a recorded fault is tried again from the tracked position. Its record stays
        until the event is applied, so no reader is told the read model is well meanwhile; an
        unfixed cause records the fault again."""
        fault = faults.stopped(self.view, SOURCE, lambda: self.position)
        self._retrying = fault
        if fault is not None:
            fault_log.warning(
                "read model: stopped at %s since %s; trying again from log position %d",
                fault.describe(), fault.recorded_at, self.position + 1,
            )

    def _advance(self) -> ReadFault | None:
        """Catch the read model up with the log. An event it cannot apply stops it there: the
        fault is recorded (and returned), the events before it are applied."""
        try:
            catch_up(self.app, self.projection)
        except Exception as error:
            if is_transient(error):
                raise
            fault = self._pinpoint(error)
            if fault is not None:
                return self._stop(fault)
        self._resumed()
        return None

    def _pinpoint(self, error: Exception) -> ReadFault | None:
        if not isinstance(error, ApplyError):
            # Not the projection's error: reading the stored events failed (the mapper cannot
            # decode one). Event by event, those before it are applied and it is the next one.
            try:
                catch_up(self.app, self.projection, batch_size=1)
            except Exception as again:
                if is_transient(again):
                    raise
                error = again
            else:
                return None
        return self._fault_of(error)

    def _fault_of(self, error: BaseException) -> ReadFault:
        """The fault an error of the projection names; for any other error (the runner's reading
        of the log), the event after the tracked position, which the runner was at."""
        if isinstance(error, ApplyError):
            return error.fault(SOURCE)
        after = self.position
        found = self.app.recorder.select_notifications(start=after + 1, limit=1)
        position, kind = (found[0].id, faults.event_kind(found[0].topic)) if found else (after + 1, "?")
        return ApplyError(position, kind, faults.reason_of(error)).fault(SOURCE)

    def _stop(self, fault: ReadFault) -> ReadFault:
        faults.record(self.view, fault)
        self._stopped = self._reported = fault
        fault_log.error(
            "read model: stopped at %s; the events before it are applied, none after it. "
            "Commands are still taken; reads of the read model answer 503 until the cause is "
            "fixed and the service restarted, which resumes from log position %d",
            fault.describe(), fault.position,
        )
        return fault

    def _resumed(self) -> None:
        fault = self._retrying
        if fault is not None and self.position >= fault.position:
            faults.clear(self.view, SOURCE, self.position)
            self._retrying = self._reported = None
            fault_log.warning(
                "read model: resumed: log position %d (%s) is applied; at position %d",
                fault.position, fault.event_type, self.position,
            )

    def sync(self, position: int | None) -> None:
        """Make the read side reflect the log up to `position` (a command's `Done.position`),
        including what the closes up to it set off (slips, allocations)."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Sync to the head of the log (before a report from the command line); refuses a stopped
        read model, whose figures would miss the events from the fault on."""
        self.sync(self.app.recorder.max_notification_id() or 0)
        fault = self.read_fault()
        if fault is not None:
            raise ReadModelStoppedError(fault, self.position)

    def close(self) -> None:
        self.app.close()
