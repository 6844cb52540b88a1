"""Application recorders that can refuse an insert when an aggregate the command read, but did
not change, has moved on meanwhile — a condition checked inside the insert's own transaction.

A command passes `expected_versions={aggregate_id: version}` to `save()`; the library hands the
keyword arguments down to the recorder. On PostgreSQL the check runs after the recorder's
EXCLUSIVE table lock, so no other insert can slip in between, and the whole save (lock, check,
signal, insert) is one statement sent; on SQLite the insert's transaction is the only writer. A
mismatch raises the library's IntegrityError, which the application treats like any
optimistic-concurrency conflict: reload, decide again (O6 against a close, D7 against a
termination)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
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
    """One statement per save: a function in the events table's schema takes the insert lock (the
    library's EXCLUSIVE table lock, with its lock timeout), compares the expected versions, signals
    the table's channel and inserts, returning the notification ids. Run on its own (autocommit),
    the statement is the transaction: the lock is held until it commits, as in the library's own
    insert, so notification ids stay in commit order.

    `watch(aggregate_id)` has every save also read, under the lock, the log position of that
    aggregate's last event: `watched()` then tells, for every log position up to the last one this
    process wrote, the latest position that aggregate could have had there.

    The parameters go in binary form (`%b`): psycopg writes the events' composite text in Python,
    escaping each state's hex, where the binary form copies the bytes (a save of an order placed
    and confirmed: 14 µs instead of 82 µs to dump, and the server reads it faster)."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        function = Identifier(f"channel_guarded_insert_{self.datastore.originator_id_type}")
        id_type = Identifier(self.datastore.originator_id_type)
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "events {schema}.{event}[], ids {id_type}[], versions bigint[], "
                "watched {id_type}) "
                "RETURNS TABLE (inserted_id bigint, watched_id bigint) "
                "LANGUAGE plpgsql AS $BODY$ "
                "DECLARE stale text; last_watched bigint; "
                "BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "SELECT string_agg(k.id::text, ', ') INTO stale "
                "FROM unnest(ids, versions) AS k(id, version) "
                "WHERE (SELECT max(e.originator_version) FROM {schema}.{table} e "
                "WHERE e.originator_id = k.id) IS DISTINCT FROM k.version; "
                "IF stale IS NOT NULL THEN "
                "RAISE EXCEPTION 'changed concurrently: %', stale "
                "USING ERRCODE = 'integrity_constraint_violation'; "
                "END IF; "
                # The aggregate's last version is its last event in the log (inserts take the
                # table lock): one probe of the primary key, where max(notification_id) would scan
                # the notification index back from the log's end until the aggregate's last event
                # (the whole log for an aggregate that has none).
                "SELECT e.notification_id INTO last_watched FROM {schema}.{table} e "
                "WHERE e.originator_id = watched "
                "ORDER BY e.originator_version DESC LIMIT 1; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} AS t "
                "(originator_id, originator_version, topic, state) "
                "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                "FROM unnest(events) AS e "
                "RETURNING t.notification_id, last_watched; "
                "END; $BODY$"
            ).format(
                schema=schema,
                function=function,
                event=Identifier(self.stored_event_type_name),
                id_type=id_type,
                lock_timeout=self.datastore.lock_timeout,
                table=Identifier(self.events_table_name),
                channel=Identifier(self.channel_name),
            )
        )
        # Composed once into its text: psycopg would compose it again on every save.
        self.guarded_insert_statement = SQL(
            "SELECT inserted_id, watched_id FROM "
            "{schema}.{function}(%b, %b::{id_type}[], %b::bigint[], %b::{id_type})"
        ).format(schema=schema, function=function, id_type=id_type).as_string(None)
        self._watched_id: UUID | None = None
        self._watched = (0, 0)  # (the last position written here, the watched one's latest)
        self._watched_lock = threading.Lock()

    def watch(self, aggregate_id: UUID) -> None:
        self._watched_id = aggregate_id

    def watched(self) -> tuple[int, int]:
        """`(through, latest)`: at every log position up to `through`, the watched aggregate's
        last event was at `latest` or before (0: none)."""
        return self._watched

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        expected: Expected = kwargs.get("expected_versions") or {}
        events = [
            self.construct_pg_stored_event(
                e.originator_id, e.originator_version, e.topic, e.state
            )
            for e in stored_events
        ]
        watched = self._watched_id
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            assert conn.autocommit  # the one statement is its own transaction
            curs.execute(
                self.guarded_insert_statement,
                (events, list(expected), list(expected.values()), watched),
                prepare=True,
            )
            rows = curs.fetchall()
        ids = [row["inserted_id"] for row in rows]
        if watched is not None and ids:
            latest = max(rows[0]["watched_id"] or 0, *(
                i for i, e in zip(ids, stored_events, strict=True)
                if e.originator_id == watched
            ), 0)
            with self._watched_lock:
                through, known = self._watched
                self._watched = (max(through, ids[-1]), max(known, latest))
        return ids
