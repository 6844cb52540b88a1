"""How the relay reads the store's notification log: rows of (position, originator id, version,
topic, state), in log order.

On PostgreSQL it reads the application recorder's table on a connection of its own, in binary
format (the state's bytes as they are, not as hex text), as plain rows: the recorder's
`select_notifications` gives the same rows as Notification objects, for about four times the
CPU time, which is as much as the relay spends on the rest of an event
(tests/integration/test_relay.py compares the two). Elsewhere it is the recorder's
`select_notifications`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification
from psycopg import sql

from infra.persistence import Database

Row = tuple[int, UUID | str, int, str, bytes]


def notification(row: Row) -> Notification:
    position, originator_id, version, topic, state = row
    return Notification(id=position, originator_id=originator_id, originator_version=version,
                        topic=topic, state=state)


class LogReader:
    """Reads rows of the log (see the module's docstring); `close` drops its connection."""

    def __init__(self, recorder: Any, database: Database) -> None:
        self.recorder = recorder
        self.database = database
        self._conn: psycopg.Connection[Any] | None = None
        table = getattr(recorder, "events_table_name", None)
        schema = getattr(getattr(recorder, "datastore", None), "schema", None)
        # Whether it reads on a connection of its own (else through the recorder).
        self.own = database.is_postgres and isinstance(table, str) and isinstance(schema, str)
        if isinstance(table, str) and isinstance(schema, str):
            columns = sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {}.{} WHERE notification_id >= %s").format(
                    sql.Identifier(schema), sql.Identifier(table))
            order = sql.SQL(" ORDER BY notification_id LIMIT %s")
            self._open = columns + order
            self._bounded = columns + sql.SQL(" AND notification_id <= %s") + order

    def read(self, start: int, limit: int, stop: int | None = None) -> list[Row]:
        """The rows from position `start`, at most `limit`, none after `stop`."""
        if not self.own:
            return [(n.id, n.originator_id, n.originator_version, n.topic, n.state)
                    for n in self.recorder.select_notifications(start=start, limit=limit,
                                                                stop=stop)]
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.database.conninfo(), autocommit=True)
        try:
            with self._conn.cursor(binary=True) as cursor:
                if stop is None:
                    cursor.execute(self._open, (start, limit), prepare=True)
                else:
                    cursor.execute(self._bounded, (start, stop, limit), prepare=True)
                return cursor.fetchall()
        except psycopg.Error:
            self.close()  # a new connection next time
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
