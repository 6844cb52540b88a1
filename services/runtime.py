"""The read side wired to the write side: the application, the read-model view, the queries and the
close's process manager, fed in-process (SQLite) or by a `ProjectionRunner` led by one process
at a time (PostgreSQL). `sync(position)` makes a read after a command see the command's effect.

An event the read model cannot apply stops it there (projections/faults.py): the fault is
recorded for every process to see, the process that met it follows the log no further and runs
no follow-ups, and a runtime that starts tries again from the tracked position."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from time import monotonic, sleep
from typing import Any, cast

import psycopg
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from domain.policy import PolicyBook
from infra.persistence import Database, parse_database_url
from infra.settings import Settings
from projections import faults
from projections.faults import ApplyError, ReadFault, ReadModelStoppedError, is_transient
from projections.projection import SOURCE, ChannelProjection, LogReader, catch_up
from projections.queries import Reports
from projections.records import EventRecord
from projections.views import ChannelView, PostgresChannelView, SQLiteChannelView, advisory_key
from services.application import ChannelLedger
from services.bootstrap import build_application
from services.process_managers import PeriodCloseManager

log = logging.getLogger(__name__)
fault_log = faults.log  # "channel.read_model": the server's log shows these lines

CLOSE_EVENT = "AccountingCalendar.MonthClosed"
LEADER_RETRY = 1.0  # seconds between attempts to become the projections' leader
FOLLOW_UP_POLL = 1.0  # seconds between the leader's looks for pending closes
FAULT_POLL = 0.25  # seconds between looks for a recorded fault while waiting for the read model


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


class EmbeddedRuntime(Runtime):
    """SQLite: the recorder cannot be subscribed to, so each sync catches the projection up in
    this process from its tracked position, then runs the pending closes' follow-ups."""

    def __init__(self, app: ChannelLedger, view: ChannelView, read_wait: float):
        super().__init__(app, view, read_wait)
        self._lock = threading.Lock()
        self._resume()
        self._starting = True

    def sync(self, position: int | None = None) -> None:
        """Never raises for an event the read model cannot apply: it records the fault and stops
        (here, and in every process on the file) until a restart."""
        with self._lock:
            if self._starting:
                self._starting = False  # the first sync tries a recorded fault again
            elif self._stopped is not None or self.read_fault() is not None:
                return
            # A follow-up writes slips and allocations, which the next round projects; one round
            # more than the number of closes is always enough. Follow-ups read the read model:
            # none runs once it is stopped.
            for _ in range(len(self.managers.pending()) + 2):
                if self._advance() is not None:
                    return
                try:
                    written = self.managers.run_pending()
                except Exception:
                    # As on PostgreSQL: a command that failed here is not the read model's fault,
                    # and the close it follows is stored; the next sync tries it again.
                    log.exception("projections: a close follow-up failed; it will be retried")
                    return
                if written is None:
                    return


class PostgresRuntime(Runtime):
    """PostgreSQL: one process at a time (the holder of an advisory lock) runs the
    ProjectionRunner and the process manager; every process waits on the view's tracking."""

    def __init__(
        self,
        app: ChannelLedger,
        view: PostgresChannelView,
        read_wait: float,
        database: Database,
        lead: bool,
    ):
        super().__init__(app, view, read_wait)
        self.pg_view = view
        self.database = database
        self.env = database.eventsourcing_env()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self.is_leader = threading.Event()
        self._thread: threading.Thread | None = None
        if lead:
            self._thread = threading.Thread(target=self._lead, name="channel-projections", daemon=True)
            self._thread.start()

    # --- waiting (every process) ----------------------------------------------------------------

    def sync(self, position: int | None) -> None:
        """Returns at once when the read model is stopped: nothing will come to wait for."""
        if position is None or self.read_fault() is not None:
            return
        deadline = monotonic() + self.read_wait
        if not self._wait(position, deadline):
            return
        # The closes up to `position` have follow-ups; wait until the leader has done them and
        # the view has projected what they wrote.
        pause = 0.02
        while True:
            with self.view.reading() as db:
                rows = db.all("SELECT done_position FROM @followups WHERE close_position <= ?", (position,))
            if all(r["done_position"] is not None for r in rows):
                break
            if monotonic() >= deadline or self.read_fault() is not None:
                log.warning("read side: the close follow-ups up to %s are not done yet", position)
                return
            self._wake.set()
            sleep(pause)
            pause = min(pause * 2, 0.2)
        done = max((int(r["done_position"]) for r in rows), default=0)
        if done > position:
            self._wait(done, deadline)

    def _wait(self, position: int, deadline: float) -> bool:
        while True:
            remaining = deadline - monotonic()
            try:
                self.view.wait(SOURCE, position, timeout=max(min(remaining, FAULT_POLL), 0.01))
            except TimeoutError:
                if self.read_fault() is not None:
                    return False
                if remaining <= FAULT_POLL:
                    log.warning("read side: not at log position %s within %ss", position, self.read_wait)
                    return False
                continue
            return True

    # --- leading (one process) ---------------------------------------------------------------------

    def _lead(self) -> None:
        key = advisory_key(self.pg_view.datastore.schema, "leader")
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.database.conninfo(), autocommit=True) as conn:
                    got = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                    if got and got[0]:
                        self.is_leader.set()
                        try:
                            self._follow(conn)
                        finally:
                            self.is_leader.clear()
            except Exception:
                log.exception("projections: leader loop failed; trying again")
            self._stopping.wait(LEADER_RETRY)

    def _follow(self, lock: psycopg.Connection[Any]) -> None:
        """Catch the backlog up in batches, then follow the log with the library's runner; run the
        close follow-ups whenever a close has been projected. Stopped at a fault, hold the lead
        without following (no other process retries it over and over) until this one stops."""
        if self._stopped is None:
            self._resume()
            if self._advance() is None:
                self._run(lock)
        if self._stopped is not None:
            self._hold(lock)

    def _run(self, lock: psycopg.Connection[Any]) -> None:
        runner = ProjectionRunner(
            application_class=LogReader,
            projection_class=ChannelProjection,
            view_class=PostgresChannelView,
            # The tables exist (this runtime made them); creating them again from a second pool
            # would race with the other processes' DDL for nothing.
            env={**self.env, "CREATE_TABLE": "false"},
        )
        runner.view.listeners.append(self._on_applied)
        with runner:
            while not self._stopping.is_set():
                try:
                    runner.run_forever(timeout=0)  # re-raises an error of the runner's thread
                except Exception as error:
                    if is_transient(error):
                        raise
                    self._stop(self._fault_of(error))
                    return
                if runner.is_interrupted.is_set():
                    return
                self._wake.clear()
                try:
                    self.managers.run_pending()
                except Exception:
                    log.exception("projections: a close follow-up failed; it will be retried")
                self._wake.wait(FOLLOW_UP_POLL)
                lock.execute("SELECT 1")  # the lock lives as long as this connection

    def _hold(self, lock: psycopg.Connection[Any]) -> None:
        fault_log.warning("read model: this process leads the projections but follows the log no "
                          "further: restart it once the cause is fixed")
        while not self._stopping.wait(FOLLOW_UP_POLL):
            lock.execute("SELECT 1")

    def _on_applied(self, records: list[EventRecord]) -> None:
        if any(r.kind == CLOSE_EVENT for r in records):
            self._wake.set()

    def close(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.pg_view.datastore.close()
        super().close()


def postgres_view(env: dict[str, str]) -> PostgresChannelView:
    """The view as `ProjectionRunner` builds it: a factory configured under the projection's name,
    so both use the same tracking table."""
    environment = Environment(ChannelProjection.name, {**os.environ, **env})
    factory = InfrastructureFactory.construct(env=environment)
    return cast(PostgresChannelView, factory.tracking_recorder(PostgresChannelView))


def build_runtime(
    settings: Settings,
    *,
    initial_policy: PolicyBook | None = None,
    clock: Callable[[], date] = date.today,
    lead: bool = True,
) -> Runtime:
    """`lead=False` (PostgreSQL only): never run the projections here, only wait for them.
    `initial_policy`: the first policy versions of an empty store (default policy/default.toml);
    the figures read the versions the log records."""
    app = build_application(settings, initial_policy=initial_policy, clock=clock)
    database = parse_database_url(settings.CHANNEL_DATABASE_URL)
    view = open_view(app, database)
    if isinstance(view, PostgresChannelView):
        return PostgresRuntime(app, view, settings.CHANNEL_READ_WAIT, database, lead)
    runtime = EmbeddedRuntime(app, view, settings.CHANNEL_READ_WAIT)
    runtime.sync(None)
    return runtime


def stored_read_state(app: ChannelLedger, database: Database) -> ReadState:
    """The read model's state as the store records it, read without feeding it."""
    view = open_view(app, database)
    try:
        return read_state(app, view)
    finally:
        if isinstance(view, PostgresChannelView):
            view.datastore.close()


def open_view(app: ChannelLedger, database: Database) -> ChannelView:
    """The read model's view of the application's store, not fed by anyone (a runtime feeds it)."""
    if database.is_postgres:
        return postgres_view(database.eventsourcing_env())
    # SQLite: the view shares the application's datastore (one file, or one in-memory database).
    return cast(ChannelView, app.factory.tracking_recorder(SQLiteChannelView))
