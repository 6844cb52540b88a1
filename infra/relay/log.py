"""How the relay reads the store's notification log: rows of (position, originator id, version,
topic, state), in log order, as `infra.logrows` reads them (binary, plain rows: a quarter of the
CPU time of the recorder's `select_notifications`, which is as much as the relay spends on the
rest of an event; tests/integration/test_relay.py compares the two). On PostgreSQL on a connection
of its own (the relay reads on a thread of its own); elsewhere through the recorder."""

from __future__ import annotations

from typing import Any

import psycopg

from infra.logrows import StoredRow, execute, recorded_rows, statements
from infra.persistence import Database

Row = StoredRow


class LogReader:
    """Reads rows of the log (see the module's docstring); `close` drops its connection."""

    def __init__(self, recorder: Any, database: Database) -> None:
        self.recorder = recorder
        self.database = database
        self._conn: psycopg.Connection[Any] | None = None
        self.found = statements(recorder)
        # Whether it reads on a connection of its own (else through the recorder).
        self.own = database.is_postgres and self.found is not None

    def read(self, start: int, limit: int, stop: int | None = None) -> list[Row]:
        """The rows from position `start`, at most `limit`, none after `stop`."""
        if not self.own or self.found is None:
            return recorded_rows(self.recorder, start, limit, stop)
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.database.conninfo(), autocommit=True)
        try:
            with self._conn.cursor(binary=True) as cursor:
                return execute(cursor, self.found, start, limit, stop)
        except psycopg.Error:
            self.close()  # a new connection next time
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
