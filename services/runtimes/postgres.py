"""The PostgreSQL runtime: one process at a time leads the projections with the library's
`ProjectionRunner` (projections/live.py: several events per transaction); every process waits for
the view's tracked position by LISTEN/NOTIFY (the view announces each commit), not by polling."""

from __future__ import annotations

import os
import threading
from time import monotonic, sleep
from typing import Any, cast

import psycopg
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment
from psycopg import sql

from domain.period import AccountingCalendar
from infra.persistence import Database
from infra.sql import advisory_key
from projections.faults import is_transient
from projections.live import BatchingProjectionRunner
from projections.model.base import PREFIX
from projections.projection import SOURCE, ChannelProjection
from projections.records import EventRecord
from projections.views import PostgresChannelView
from services.application import ChannelLedger
from services.runtimes.base import Runtime, fault_log, log

CLOSE_EVENT = "AccountingCalendar.MonthClosed"
LEADER_RETRY = 1.0  # seconds between attempts to become the projections' leader
FOLLOW_UP_POLL = 1.0  # seconds between the leader's looks for pending closes
FAULT_POLL = 0.25  # seconds between looks for a recorded fault while waiting for the read model
LISTEN_POLL = 0.1  # seconds the listener blocks before it looks whether the runtime closes


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
        # What the view announced: the highest tracked position heard of, counted wake-ups.
        self._applied = threading.Condition()
        self._heard = 0
        self._wakeups = 0
        self._listening = threading.Event()
        # Every close up to the first position has its follow-ups done, and what they wrote is
        # at the second or before (from the last look at the follow-ups).
        self._closes_done = (0, 0)
        watch = getattr(app.recorder, "watch", None)
        if watch is not None:  # each save reports where the calendar's last event lies
            watch(AccountingCalendar.create_id())
        self._listener = threading.Thread(target=self._listen, name="channel-applied", daemon=True)
        self._listener.start()
        schema = self.pg_view.datastore.schema
        self._followups_sql = sql.SQL(
            "SELECT count(*) FILTER (WHERE done_position IS NULL) AS pending, "
            "max(done_position) AS done FROM {} WHERE close_position <= %s"
        ).format(sql.Identifier(schema, PREFIX + "followups"))
        if lead:
            self._thread = threading.Thread(target=self._lead, name="channel-projections", daemon=True)
            self._thread.start()

    # --- waiting (every process) ----------------------------------------------------------------

    def sync(self, position: int | None) -> None:
        """Returns at once when the read model is stopped: nothing will come to wait for."""
        if position is None:
            return
        deadline = monotonic() + self.read_wait
        if not self._wait(position, deadline):
            return
        # The closes up to `position` have follow-ups; wait until the leader has done them and
        # the view has projected what they wrote. Known done already when no close can lie
        # between the last look and `position`: no statement then.
        covered, done = self._closes_done
        through, last_close = self._recorder_watch()
        if position <= through and last_close <= covered:
            if done > position:
                self._wait(done, deadline)
            return
        pause = 0.02
        while True:
            pending, done = self._followups(position)
            if not pending:
                break
            if monotonic() >= deadline or self.read_fault() is not None:
                log.warning("read side: the close follow-ups up to %s are not done yet", position)
                return
            self._wake.set()
            sleep(pause)
            pause = min(pause * 2, 0.2)
        with self._applied:
            covered, known = self._closes_done
            if position > covered:
                self._closes_done = (position, max(known, done))
        if done > position:
            self._wait(done, deadline)

    def _recorder_watch(self) -> tuple[int, int]:
        """How far this process knows where the calendar's last event (a close) can lie."""
        watched = getattr(self.app.recorder, "watched", None)
        return watched() if watched is not None else (0, 1 << 62)

    def _followups(self, position: int) -> tuple[int, int]:
        """How many closes up to `position` wait for their follow-ups, and the last position the
        done ones wrote: one statement, outside any transaction."""
        with self.pg_view.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._followups_sql, (position,), prepare=True)
            row = curs.fetchone()
        return (int(row["pending"]), int(row["done"] or 0)) if row else (0, 0)

    def _wait(self, position: int, deadline: float) -> bool:
        """Until the view has applied `position`: the view's announcements wake this up. While
        the listener listens, what it heard is the tracked position (it read the position once
        after LISTEN, and every commit after that announces its own), so no statement is sent;
        otherwise the tracked position is read before each wait."""
        while True:
            with self._applied:
                if self._heard >= position:
                    return True
                wakeups = self._wakeups
            if not self._listening.is_set() and self.view.has_tracking_id(SOURCE, position):
                return True
            remaining = deadline - monotonic()
            with self._applied:
                if self._wakeups == wakeups:
                    self._applied.wait(timeout=max(min(remaining, FAULT_POLL), 0))
                woken = self._wakeups != wakeups
            if not woken:
                # A quiet spell: the listener may have lost its connection unnoticed so far.
                if self.view.has_tracking_id(SOURCE, position):
                    return True
                if self.read_fault() is not None:
                    return False
                if remaining <= FAULT_POLL:
                    log.warning("read side: not at log position %s within %ss", position, self.read_wait)
                    return False

    def _listen(self) -> None:
        """Hear the view's announcements (a position per commit) on a connection of its own."""
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.database.conninfo(), autocommit=True) as conn:
                    conn.execute(f'LISTEN "{self.pg_view.channel}"')
                    # Anything committed before LISTEN was not heard: read the tracked position
                    # once (waking the waiters), then listen. A waiter reads it itself until then.
                    self._tell(self.view.max_tracking_id(SOURCE) or 0)
                    self._listening.set()
                    while not self._stopping.is_set():
                        # A short timeout: the loop sees `close()` soon (no statement is sent).
                        for note in conn.notifies(timeout=LISTEN_POLL):
                            self._tell(int(note.payload or 0))
            except Exception:
                if self._stopping.is_set():
                    return
                self._listening.clear()
                log.exception("read side: listening for the view failed; trying again")
                self._stopping.wait(LEADER_RETRY)

    def _tell(self, position: int) -> None:
        with self._applied:
            self._heard = max(self._heard, position)
            self._wakeups += 1
            self._applied.notify_all()

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
        # The tables exist (this runtime made them); creating them again from a second pool
        # would race with the other processes' DDL for nothing.
        runner = BatchingProjectionRunner(env={**self.env, "CREATE_TABLE": "false"})
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
        self._listener.join()
        self.pg_view.datastore.close()
        super().close()


def postgres_view(env: dict[str, str]) -> PostgresChannelView:
    """The view as `ProjectionRunner` builds it: a factory configured under the projection's name,
    so both use the same tracking table."""
    environment = Environment(ChannelProjection.name, {**os.environ, **env})
    factory = InfrastructureFactory.construct(env=environment)
    return cast(PostgresChannelView, factory.tracking_recorder(PostgresChannelView))
