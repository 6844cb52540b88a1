"""The store's notification log read as plain rows, for the readers that go through all of it (the
read model's catch-up and replay, the relay).

On PostgreSQL the application recorder's table is read in binary format (the state's bytes as they
are, not as hex text) into tuples: the recorder's `select_notifications` builds a mapping and then
a Notification object per row, about four times the CPU time for the same rows, which is as much as
the library's decoding of the event itself. A `StoredRow` has a Notification's attributes, so the
library's mapper decodes it as it is. Elsewhere (SQLite) the rows are the recorder's own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import sql


class StoredRow(NamedTuple):
    """A stored event at its place in the log, as the mapper reads it (`to_domain_event`)."""

    id: int
    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes


def _rows(cursor: Any) -> Any:
    return StoredRow._make


def statements(recorder: Any) -> tuple[sql.Composed, sql.Composed] | None:
    """The SELECTs of the log from a position, without and with an upper bound (their parameters:
    start, [stop,] limit), when the recorder keeps its events in a PostgreSQL table; else None."""
    table = getattr(recorder, "events_table_name", None)
    schema = getattr(getattr(recorder, "datastore", None), "schema", None)
    if not isinstance(table, str) or not isinstance(schema, str):
        return None
    columns = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state "
        "FROM {}.{} WHERE notification_id >= %s").format(sql.Identifier(schema), sql.Identifier(table))
    order = sql.SQL(" ORDER BY notification_id LIMIT %s")
    return columns + order, columns + sql.SQL(" AND notification_id <= %s") + order


def execute(cursor: Any, found: tuple[sql.Composed, sql.Composed], start: int, limit: int,
            stop: int | None) -> list[StoredRow]:
    """Runs one of `statements` on a binary cursor, as `StoredRow`s."""
    cursor.row_factory = _rows
    if stop is None:
        cursor.execute(found[0], (start, limit), prepare=True)
    else:
        cursor.execute(found[1], (start, stop, limit), prepare=True)
    rows: list[StoredRow] = cursor.fetchall()
    return rows


def recorded_rows(recorder: Any, start: int, limit: int, stop: int | None) -> list[StoredRow]:
    """The recorder's own `select_notifications`, as `StoredRow`s (where `statements` is None)."""
    return [StoredRow(n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(start=start, limit=limit, stop=stop)]


class RowReader:
    """Reads a recorder's log as `StoredRow`s, on PostgreSQL through the recorder's own pool."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.found = statements(recorder)

    # As the recorder's select_notifications: a dropped connection is tried again.
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def read(self, start: int, limit: int, stop: int | None = None) -> list[StoredRow]:
        """The rows from position `start`, at most `limit`, none after `stop`."""
        if self.found is None:
            return recorded_rows(self.recorder, start, limit, stop)
        with self.recorder.datastore.get_connection() as conn, conn.cursor(binary=True) as cursor:
            return execute(cursor, self.found, start, limit, stop)


class RowsPostgresApplicationRecorder(PostgresApplicationRecorder):
    """The library's recorder whose `select_notifications` gives `StoredRow`s (read as above):
    for an application that only reads the log to decode it, as the live feed's subscription does
    (its thread selects, the feed's decodes). With topics, the library's own select."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rows = RowReader(self)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Any]:
        if topics:
            return super().select_notifications(start, limit, stop, topics,
                                                inclusive_of_start=inclusive_of_start)
        first = (start or 0) if inclusive_of_start else (start or 0) + 1
        return self._rows.read(first, limit, stop)
