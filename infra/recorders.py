"""Application recorders that can refuse an insert when an aggregate the command read, but did
not change, has moved on meanwhile — a condition checked inside the insert's own transaction.

A command passes `expected_versions={aggregate_id: version}` to `save()`; the library hands the
keyword arguments down to the recorder. On PostgreSQL the check runs after the recorder's
EXCLUSIVE table lock, so no other insert can slip in between; on SQLite the insert's transaction
is the only writer. A mismatch raises the library's IntegrityError, which the application treats
like any optimistic-concurrency conflict: reload, decide again (O6 against a close, D7 against a
termination)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from infra.sql import sqlite_identifier

Expected = Mapping[UUID, int | None]


def _conflicts(expected: Expected, found: Mapping[str, int]) -> list[str]:
    return [
        str(aggregate_id)
        for aggregate_id, version in expected.items()
        if found.get(aggregate_id.hex) != version
    ]


class GuardedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        expected: Expected | None = kwargs.get("expected_versions")
        if expected:
            ids = [aggregate_id.hex for aggregate_id in expected]
            marks = ",".join("?" for _ in ids)
            quoted = sqlite_identifier(self.events_table_name)
            c.execute(
                f"SELECT originator_id, MAX(originator_version) FROM {quoted} "
                f"WHERE originator_id IN ({marks}) GROUP BY originator_id",
                ids,
            )
            found = {row[0]: row[1] for row in c.fetchall()}
            stale = _conflicts(expected, found)
            if stale:
                raise IntegrityError(f"changed concurrently: {', '.join(stale)}")
        return super()._insert_events(c, stored_events, **kwargs)


class GuardedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        expected: Expected | None = kwargs.get("expected_versions")
        if not expected:
            super()._insert_stored_events(curs, stored_events, **kwargs)
            return
        # Take the insert lock first, so the versions read here stay current until this
        # transaction commits; the library's own insert below would take it once more (a
        # lock_timeout and a LOCK TABLE per save), so the rest of its steps run here instead.
        self._lock_table(curs)
        curs.execute(
            SQL(
                "SELECT originator_id, MAX(originator_version) AS version FROM {}.{} "
                "WHERE originator_id = ANY(%s) GROUP BY originator_id"
            ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name)),
            (list(expected),),
            prepare=True,
        )
        found = {row["originator_id"].hex: row["version"] for row in curs.fetchall()}
        stale = _conflicts(expected, found)
        if stale:
            # Nothing is inserted yet: raising here leaves an empty transaction behind.
            raise IntegrityError(f"changed concurrently: {', '.join(stale)}")
        self._notify_channel(curs)
        PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events, **kwargs)
