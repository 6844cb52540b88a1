"""The read side wired to the write side: the application, the read-model view, the queries and the
close's process manager, fed in-process (SQLite) or by a `ProjectionRunner` led by one process
at a time (PostgreSQL). `sync(position)` makes a read after a command see the command's effect."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
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
from projections.projection import SOURCE, ChannelProjection, LogReader, catch_up
from projections.queries import Reports
from projections.records import EventRecord
from projections.views import ChannelView, PostgresChannelView, SQLiteChannelView, advisory_key
from services.application import ChannelLedger
from services.bootstrap import build_application
from services.process_managers import PeriodCloseManager

log = logging.getLogger(__name__)

CLOSE_EVENT = "AccountingCalendar.MonthClosed"
LEADER_RETRY = 1.0  # seconds between attempts to become the projections' leader
FOLLOW_UP_POLL = 1.0  # seconds between the leader's looks for pending closes


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

    @property
    def position(self) -> int:
        """How far the read model has applied the log."""
        return self.view.max_tracking_id(SOURCE) or 0

    def sync(self, position: int | None) -> None:
        """Make the read side reflect the log up to `position` (a command's `Done.position`),
        including what the closes up to it set off (slips, allocations)."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Sync to the head of the log (before a report from the command line)."""
        self.sync(self.app.recorder.max_notification_id() or 0)

    def close(self) -> None:
        self.app.close()


class EmbeddedRuntime(Runtime):
    """SQLite: the recorder cannot be subscribed to, so each sync catches the projection up in
    this process from its tracked position, then runs the pending closes' follow-ups."""

    def __init__(self, app: ChannelLedger, view: ChannelView, read_wait: float):
        super().__init__(app, view, read_wait)
        self._lock = threading.Lock()

    def sync(self, position: int | None = None) -> None:
        with self._lock:
            # A follow-up writes slips and allocations, which the next round projects; one round
            # more than the number of closes is always enough.
            for _ in range(len(self.managers.pending()) + 2):
                catch_up(self.app, self.projection)
                if self.managers.run_pending() is None:
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
        if position is None:
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
            if monotonic() >= deadline:
                log.warning("read side: the close follow-ups up to %s are not done yet", position)
                return
            self._wake.set()
            sleep(pause)
            pause = min(pause * 2, 0.2)
        done = max((int(r["done_position"]) for r in rows), default=0)
        if done > position:
            self._wait(done, deadline)

    def _wait(self, position: int, deadline: float) -> bool:
        try:
            self.view.wait(SOURCE, position, timeout=max(deadline - monotonic(), 0.01))
        except TimeoutError:
            log.warning("read side: not at log position %s within %ss", position, self.read_wait)
            return False
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
        close follow-ups whenever a close has been projected."""
        catch_up(self.app, self.projection)
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
                self._wake.clear()
                try:
                    self.managers.run_pending()
                except Exception:
                    log.exception("projections: a close follow-up failed; it will be retried")
                self._wake.wait(FOLLOW_UP_POLL)
                runner.run_forever(timeout=0)  # re-raises an error of the runner's thread
                if runner.is_interrupted.is_set():
                    return
                lock.execute("SELECT 1")  # the lock lives as long as this connection

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
    if database.is_postgres:
        view = postgres_view(database.eventsourcing_env())
        return PostgresRuntime(app, view, settings.CHANNEL_READ_WAIT, database, lead)
    # SQLite: the view shares the application's datastore (one file, or one in-memory database).
    sqlite_view = app.factory.tracking_recorder(SQLiteChannelView)
    runtime = EmbeddedRuntime(app, cast(ChannelView, sqlite_view), settings.CHANNEL_READ_WAIT)
    runtime.sync(None)
    return runtime
