"""Helpers of the audit tests: a short history with closes, the `channel` command in-process, and
tampering with the stored events table directly (sqlite3 or psycopg), as an intruder would."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from infra.persistence import parse_database_url
from services.application import ChannelLedger
from services.cli import main
from tests.builders import fulfil, line, onboard, place, publish_prices

EVENTS_TABLE_PG = "channelledger_events"  # the library names the table after the application


def short_history(app: ChannelLedger) -> dict[str, str]:
    """Two active dealers, deliveries in January and February, both months closed, then an
    order after the last close. Returns the order ids by name."""
    publish_prices(app)
    east = onboard(app, "active", "A", "east", name="East")
    west = onboard(app, "active", "AA", "west", salesperson="bob", name="West")
    orders = {"east-first": str(app.find_order(east, "first").id),  # type: ignore[union-attr]
              "west-first": str(app.find_order(west, "first").id)}  # type: ignore[union-attr]
    fulfil(app, orders["east-first"], date(2026, 1, 20))
    fulfil(app, orders["west-first"], date(2026, 1, 21))
    app.close_period("2026-01", date(2026, 2, 1))
    orders["east-feb"] = place(app, east, "feb", on=date(2026, 2, 3), lines=[line(qty=3)])
    fulfil(app, orders["east-feb"], date(2026, 2, 10))
    app.close_period("2026-02", date(2026, 3, 1))
    orders["west-mar"] = place(app, west, "mar", on=date(2026, 3, 2))
    return orders


def run_channel(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """`channel ARGV` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def position_of(app: ChannelLedger, topic_suffix: str, originator_id: str | None = None,
                nth: int = 0) -> int:
    """The log position of the nth stored event whose topic ends with `topic_suffix`."""
    found = [
        n.id for n in app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic.endswith(topic_suffix)
        and (originator_id is None or str(n.originator_id).replace("-", "")
             == originator_id.replace("-", ""))
    ]
    return found[nth]


@contextmanager
def _cursor(url: str) -> Iterator[tuple[Any, str, str]]:
    """(cursor, qualified events table, parameter mark) on the store behind `url`."""
    db = parse_database_url(url)
    if db.is_postgres:
        with psycopg.connect(db.conninfo(), autocommit=True) as conn, conn.cursor() as cur:
            table = sql.Identifier(db.schema or "public", EVENTS_TABLE_PG).as_string(conn)
            yield cur, table, "%s"
    else:
        conn = sqlite3.connect(db.path)
        try:
            yield conn.cursor(), "stored_events", "?"
            conn.commit()
        finally:
            conn.close()


def _id_column(url: str) -> str:
    return "notification_id" if parse_database_url(url).is_postgres else "rowid"


def tamper_state(url: str, position: int, old: bytes, new: bytes) -> None:
    """Replace bytes inside the stored state of the event at `position`."""
    with _cursor(url) as (cur, table, mark):
        cur.execute(f"SELECT state FROM {table} WHERE {_id_column(url)} = {mark}", (position,))
        state = bytes(cur.fetchone()[0])
        assert old in state, f"{old!r} is not in the event at {position}"
        cur.execute(f"UPDATE {table} SET state = {mark} WHERE {_id_column(url)} = {mark}",
                    (state.replace(old, new), position))


def delete_event(url: str, position: int) -> None:
    with _cursor(url) as (cur, table, mark):
        cur.execute(f"DELETE FROM {table} WHERE {_id_column(url)} = {mark}", (position,))


def stored_row(url: str, position: int) -> Sequence[Any]:
    """(originator_id, originator_version, topic, state) of the event at `position`."""
    with _cursor(url) as (cur, table, mark):
        cur.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {table} "
            f"WHERE {_id_column(url)} = {mark}", (position,))
        row: Sequence[Any] = cur.fetchone()
        return row


def insert_event(url: str, position: int, originator_id: Any, version: int, topic: str,
                 state: bytes) -> None:
    """Write a stored event at a given position, as a forger with write access would."""
    with _cursor(url) as (cur, table, mark):
        column = _id_column(url)
        cur.execute(
            f"INSERT INTO {table} ({column}, originator_id, originator_version, topic, state) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
            (position, originator_id, version, topic, state),
        )


def leave_gap(url: str, app: ChannelLedger) -> int:
    """Make the next log position unused, as an aborted PostgreSQL insert does (it consumes its
    sequence number); returns that position. On SQLite a filler row holds it until
    `remove_filler` (after the application has written past it)."""
    gap = (app.recorder.max_notification_id() or 0) + 1
    with _cursor(url) as (cur, table, mark):
        if parse_database_url(url).is_postgres:
            cur.execute(f"SELECT nextval(pg_get_serial_sequence({mark}, 'notification_id'))",
                        (table,))
        else:
            cur.execute(f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, "
                        "state) VALUES (?, 'filler', 1, 'filler', x'7b7d')", (gap,))
    return gap


def remove_filler(url: str, gap: int) -> None:
    if not parse_database_url(url).is_postgres:
        delete_event(url, gap)
