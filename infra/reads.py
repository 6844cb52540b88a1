"""Set-based reads of the event store that the library's recorders do not offer (they select by
range of positions or one aggregate at a time): the events at a set of positions, and which of a
set of aggregates exist. One statement per chunk on PostgreSQL and SQLite, so a close's work
costs a handful of queries however many dealers it concerns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

CHUNK = 500  # values per statement, well inside SQLite's parameter limit
T = TypeVar("T")


def _chunks(values: Sequence[T]) -> Iterable[list[T]]:
    for i in range(0, len(values), CHUNK):
        yield list(values[i:i + CHUNK])


def select_at(recorder: ApplicationRecorder, positions: Sequence[int]) -> list[Notification]:
    """The stored events at these positions (ascending, at most CHUNK), in log order, built as the
    library's `select_notifications` builds them (a digest must not depend on how the event was
    read); a position with no event is left out."""
    ids = list(positions)
    if isinstance(recorder, PostgresApplicationRecorder):
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE notification_id = ANY(%s) ORDER BY notification_id"
        ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (ids,))
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]
    if isinstance(recorder, SQLiteApplicationRecorder):
        marks = ",".join("?" for _ in ids)
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT rowid, originator_id, originator_version, topic, state FROM "
                f"{recorder.events_table_name} WHERE rowid IN ({marks}) ORDER BY rowid",
                ids,
            )
            return [
                Notification(
                    id=row["rowid"],
                    originator_id=recorder.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                )
                for row in c.fetchall()
            ]
    # Any other recorder: runs of consecutive positions through the library's range selection.
    found: list[Notification] = []
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        found.extend(recorder.select_notifications(start=ids[i], limit=j - i + 1, stop=ids[j]))
        i = j + 1
    return found


def existing(recorder: ApplicationRecorder, aggregate_ids: Iterable[UUID]) -> set[UUID]:
    """Which of these aggregates the store holds (those with a first event)."""
    ids = sorted(set(aggregate_ids))
    found: set[UUID] = set()
    if isinstance(recorder, PostgresApplicationRecorder):
        statement = SQL(
            "SELECT originator_id FROM {}.{} WHERE originator_id = ANY(%s) "
            "AND originator_version = 1"
        ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        for chunk in _chunks(ids):
            with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, (chunk,))
                found.update(UUID(str(row["originator_id"])) for row in curs.fetchall())
        return found
    if isinstance(recorder, SQLiteApplicationRecorder):
        for chunk in _chunks(ids):
            marks = ",".join("?" for _ in chunk)
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(
                    f"SELECT originator_id FROM {recorder.events_table_name} "
                    f"WHERE originator_id IN ({marks}) AND originator_version = 1",
                    [i.hex for i in chunk],
                )
                found.update(UUID(str(row["originator_id"])) for row in c.fetchall())
        return found
    return {i for i in ids if recorder.select_events(i, limit=1)}
