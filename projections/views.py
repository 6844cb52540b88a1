"""The materialised views: tracking recorders of the library that write the read-model rows and the
tracking position in one transaction, so each event is applied exactly once, also after a crash
or when two processes feed the same view."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from threading import Event
from time import monotonic, sleep
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    Tracking,
    TrackingRecorder,
    WaitInterruptedError,
)
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg import sql

from infra.sql import Db, Dialect, advisory_key, advisory_lock
from projections import model
from projections.model import create_tables
from projections.model.base import PREFIX, Memo
from projections.records import EventRecord

Batch = Sequence[tuple[EventRecord, Tracking]]
Listener = Callable[[list[EventRecord]], None]


class ChannelView(TrackingRecorder, ABC):
    """What the projection, the queries and the process managers need of a view."""

    dialect: Dialect
    listeners: list[Listener]
    memo: Memo  # what the gatherers read in the view's earlier batches (model.base.Memo)

    @abstractmethod
    def process(self, batch: Batch) -> list[EventRecord]:
        """Apply the events not yet tracked, and track the last, in one transaction; returns the
        events applied (after the commit)."""

    @abstractmethod
    def reading(self) -> Any:
        """A context manager giving a `Db` on one consistent snapshot."""

    @abstractmethod
    def writing(self) -> Any:
        """A context manager giving a `Db` in a transaction that commits on exit."""

    def wait(
        self,
        application_name: str,
        notification_id: int | None,
        timeout: float = 1.0,
        interrupt: Event | None = None,
    ) -> None:
        """As the library's wait, polling the tracked position, but from a millisecond on: a
        read after a command usually waits for one event, which takes a few milliseconds."""
        deadline = monotonic() + timeout
        pause = 0.001
        while not self.has_tracking_id(application_name, notification_id):
            remaining = deadline - monotonic()
            if remaining <= 0:
                msg = f"Timed out waiting for notification {notification_id} of {application_name}"
                raise TimeoutError(msg)
            if interrupt is not None and interrupt.wait(min(pause, remaining)):
                raise WaitInterruptedError
            if interrupt is None:
                sleep(min(pause, remaining))
            pause = min(pause * 2, 0.05)

    def _apply(self, db: Db, cursor: Callable[[], Any], batch: Batch, memo: Memo) -> list[EventRecord]:
        """`cursor()` gives the cursor for the library's tracking statements; `memo`, this
        batch's use of the view's memo."""
        name = batch[0][1].application_name
        # Read inside the write transaction: events another feeder applied meanwhile are skipped.
        current = self._max_tracking_id(name, cursor()) or 0  # type: ignore[attr-defined]
        todo = [(r, t) for r, t in batch if t.notification_id > current]
        records = [r for r, _ in todo]
        model.apply_all(db, records, memo.open(name, current, records))
        if todo:
            self._insert_tracking(cursor(), todo[-1][1])  # type: ignore[attr-defined]
        return records

    def _notify(self, applied: list[EventRecord]) -> None:
        if applied:
            for listener in list(self.listeners):
                listener(applied)


class SQLiteChannelView(ChannelView, SQLiteTrackingRecorder):
    """SQLite: the library's single `tracking` table, one row for the one projection."""

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.dialect = Dialect.of(self.datastore, PREFIX)
        self.listeners = []
        self.memo = Memo()

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            create_tables(Db(c, self.dialect))

    def process(self, batch: Batch) -> list[EventRecord]:
        if not batch:
            return []
        with self.memo.batch() as memo, self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            # IMMEDIATE takes the write lock first, so the tracking read below cannot go stale.
            cursor.execute("BEGIN IMMEDIATE")
            try:
                applied = self._apply(Db(cursor, self.dialect), lambda: cursor, batch, memo)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            memo.committed()
        self._notify(applied)
        return applied

    @contextmanager
    def reading(self) -> Iterator[Db]:
        with self.datastore.transaction(commit=False) as c:
            yield Db(c, self.dialect)

    @contextmanager
    def writing(self) -> Iterator[Db]:
        with self.datastore.transaction(commit=True) as c:
            yield Db(c, self.dialect)


# Events up to which a batch of a PostgreSQL view is sent in pipeline mode.
PIPELINE_UP_TO = 64


class PostgresChannelView(ChannelView, PostgresTrackingRecorder):
    """PostgreSQL: tables in the event store's schema; writers serialised by an advisory lock."""

    # A crash can lose the last commits of the view, rows and tracking together, which are then
    # applied again: exactly once holds without waiting for each commit's flush to disk.
    synchronous_commit = False

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.dialect = Dialect.of(self.datastore, PREFIX)
        self.listeners = []
        self.memo = Memo()
        self.write_lock = advisory_key(self.datastore.schema, "projection")
        # Told the tracked position at each commit (services/runtimes/postgres.py listens).
        self.channel = applied_channel(self.datastore.schema)
        # A data-modifying WITH runs whether or not the query reads it; with the library's
        # single-row tracking its RETURNING says whether the position moved on.
        written = "(SELECT count(*) FROM tracked)" if self.datastore.single_row_tracking else "1"
        self._track_and_notify = sql.SQL(
            "WITH tracked AS ({}) SELECT pg_notify(%(channel)s, %(position)s), {} AS written"
        ).format(self.insert_tracking_statement, sql.SQL(written))

    def create_table(self) -> None:
        # CREATE ... IF NOT EXISTS is not safe against another process doing the same at once:
        # the processes that start together (workers, CLI) take turns.
        with advisory_lock(self.datastore, "projection"):
            super().create_table()
            with self.datastore.transaction(commit=True) as curs:
                create_tables(Db(curs, self.dialect))

    def process(self, batch: Batch) -> list[EventRecord]:
        if not batch:
            return []
        with self.memo.batch() as memo:
            with self.datastore.transaction(commit=True) as curs, ExitStack() as pipeline:
                if len(batch) <= PIPELINE_UP_TO:
                    # A short batch (the live feed's, usually): its statements whose results are
                    # not read go out without waiting for the server's answer one by one. A long
                    # one's gathered runs are written by COPY, which pipeline mode cannot send.
                    pipeline.enter_context(curs.connection.pipeline())
                # One statement sets the commit mode and takes the write lock; the tracked
                # position is read by the next, whose snapshot follows the lock (READ COMMITTED
                # takes a snapshot per statement).
                curs.execute(
                    "SELECT set_config('synchronous_commit', %s, true), pg_advisory_xact_lock(%s)",
                    ("on" if self.synchronous_commit else "off", self.write_lock),
                )
                conn = curs.connection
                applied = self._apply(Db(curs, self.dialect, reader=conn.cursor), conn.cursor,
                                      batch, memo)
            memo.committed()
        self._notify(applied)
        return applied

    def _insert_tracking(self, cursor: Any, tracking: Tracking) -> None:
        """The library's tracking record and the announcement of the position, in one statement:
        the NOTIFY is delivered at commit, and a process waiting for the position wakes up."""
        self._check_has_multi_row_tracking_table(cursor)
        cursor.execute(self._track_and_notify, {
            "application_name": tracking.application_name,
            "notification_id": tracking.notification_id,
            "channel": self.channel,
            "position": str(tracking.notification_id),
        }, prepare=True)
        row = cursor.fetchone()
        if not row or not row["written"]:  # as the library's own insert refuses it
            raise IntegrityError(
                f"Failed to record tracking for {tracking.application_name} "
                f"{tracking.notification_id}"
            )

    @contextmanager
    def reading(self) -> Iterator[Db]:
        # Read only, and ended by COMMIT: a ROLLBACK would have psycopg send DEALLOCATE ALL
        # (notes: pitfall 11), dropping the connection's prepared statements.
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield Db(curs, self.dialect)

    @contextmanager
    def writing(self) -> Iterator[Db]:
        with self.datastore.transaction(commit=True) as curs:
            yield Db(curs, self.dialect)


def applied_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which a PostgreSQL view announces its tracked position: one per
    schema, as channels are per database."""
    return f"channel_ledger_applied_{advisory_key(schema, 'applied') & 0xFFFFFFFF:08x}"
