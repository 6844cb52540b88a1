"""Compare a rebuilt read model with the live one, table by table, inside the database (EXCEPT in
both directions), so memory stays bounded however large the tables; a few differing rows per table
are fetched to be shown, paired by primary key."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import Identifier

from infra.persistence import Database
from infra.sql import sqlite_identifier
from projections.model import BOOKKEEPING, TABLES
from projections.model.base import PREFIX
from projections.projection import SOURCE
from services.audit.scratch import Scratch

_PRIMARY = re.compile(r"PRIMARY KEY\s*\(([^)]*)\)", re.IGNORECASE)
SCRATCH_ALIAS = "audit_scratch"


def layout(ddl: str) -> tuple[list[str], list[str]]:
    """(columns, primary key) of a table's DDL in projections.model.TABLES."""
    columns: list[str] = []
    key: list[str] = []
    depth, part, parts = 0, "", []
    for ch in ddl:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += ch
    parts.append(part)
    for item in (p.strip() for p in parts if p.strip()):
        found = _PRIMARY.match(item)
        if found:
            key = [c.strip() for c in found.group(1).split(",")]
            continue
        name = item.split()[0]
        columns.append(name)
        if "PRIMARY KEY" in item.upper():
            key = [name]
    return columns, key or columns


@dataclass
class RowDiff:
    key: dict[str, Any]
    live: dict[str, Any] | None
    replay: dict[str, Any] | None

    @property
    def columns(self) -> list[str]:
        """The columns that differ when the row is on both sides."""
        if self.live is None or self.replay is None:
            return []
        return [c for c in self.live if self.live[c] != self.replay.get(c)]

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "live": self.live, "replay": self.replay, "columns": self.columns}


@dataclass
class TableDiff:
    table: str
    live_rows: int
    replay_rows: int
    live_only: int = 0  # rows of the live table the replay does not have
    replay_only: int = 0  # rows of the replay the live table does not have
    samples: list[RowDiff] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.live_only or self.replay_only)

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "live_rows": self.live_rows, "replay_rows": self.replay_rows,
                "live_only": self.live_only, "replay_only": self.replay_only,
                "samples": [s.as_dict() for s in self.samples]}


@dataclass
class Comparison:
    live_position: int
    replay_position: int
    tables: list[TableDiff]

    @property
    def differences(self) -> int:
        return sum(t.live_only + t.replay_only for t in self.tables)

    @property
    def equal(self) -> bool:
        return self.differences == 0

    def as_dict(self) -> dict[str, Any]:
        return {"live_position": self.live_position, "replay_position": self.replay_position,
                "equal": self.equal, "differences": self.differences,
                "tables": [t.as_dict() for t in self.tables]}


class _Snapshot:
    """Both read models on one connection and one snapshot: `live(name)` and `scratch(name)` are
    the two copies of a table."""

    def __init__(self, cursor: Any, mark: str, live: str, scratch: str, tracking: str) -> None:
        self.cursor = cursor
        self.mark = mark
        self._live = live
        self._scratch = scratch
        self._tracking = tracking

    def live(self, name: str) -> str:
        return f"{self._live}.{sqlite_identifier(PREFIX + name)}"

    def scratch(self, name: str) -> str:
        return f"{self._scratch}.{sqlite_identifier(PREFIX + name)}"

    def rows(self, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        self.cursor.execute(statement.replace("?", self.mark), params)
        names = [d[0] for d in self.cursor.description]
        return [dict(r) if isinstance(r, dict) else dict(zip(names, r, strict=True))
                for r in self.cursor.fetchall()]

    def value(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self.rows(statement, params)
        return next(iter(rows[0].values())) if rows else None

    def live_position(self) -> int:
        found = self.value(
            f"SELECT MAX(notification_id) AS p FROM {self._tracking} WHERE application_name = ?",
            (SOURCE,),
        )
        return int(found or 0)


@contextmanager
def snapshot(live: Database, live_tracking: str, scratch: Scratch) -> Iterator[_Snapshot]:
    if live.is_postgres:
        with psycopg.connect(live.conninfo(), row_factory=dict_row) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                # Identifiers are double-quoted alike on both databases (sqlite_identifier).
                yield _Snapshot(cur, "%s", Identifier(live.schema or "public").as_string(None),
                                Identifier(scratch.database.schema).as_string(None),
                                live_tracking)
        return
    lite = sqlite3.connect(live.path, timeout=10, isolation_level=None)
    try:
        lite.execute(f"ATTACH DATABASE ? AS {SCRATCH_ALIAS}", (scratch.database.path,))
        lite.execute("BEGIN")  # one read snapshot of the live file for the whole comparison
        yield _Snapshot(lite.cursor(), "?", "main", SCRATCH_ALIAS,
                        f"main.{live_tracking}")
        lite.execute("ROLLBACK")
    finally:
        lite.close()


def compare_in(snap: _Snapshot, replay_position: int, limit: int = 20) -> Comparison:
    tables = []
    for name, ddl in TABLES.items():
        if name in BOOKKEEPING:
            continue
        columns, key = layout(ddl)
        cols = ", ".join(columns)
        order = ", ".join(key)
        live, scratch = snap.live(name), snap.scratch(name)
        diff = TableDiff(
            name,
            int(snap.value(f"SELECT COUNT(*) AS n FROM {live}") or 0),
            int(snap.value(f"SELECT COUNT(*) AS n FROM {scratch}") or 0),
        )
        one_way = f"SELECT {cols} FROM {live} EXCEPT SELECT {cols} FROM {scratch}"
        other_way = f"SELECT {cols} FROM {scratch} EXCEPT SELECT {cols} FROM {live}"
        diff.live_only = int(snap.value(f"SELECT COUNT(*) AS n FROM ({one_way}) AS d") or 0)
        diff.replay_only = int(snap.value(f"SELECT COUNT(*) AS n FROM ({other_way}) AS d") or 0)
        if diff.differs and limit > 0:
            mine = snap.rows(f"{one_way} ORDER BY {order} LIMIT {int(limit)}")
            theirs = snap.rows(f"{other_way} ORDER BY {order} LIMIT {int(limit)}")
            diff.samples = _pair(mine, theirs, key)[:limit]
        tables.append(diff)
    return Comparison(snap.live_position(), replay_position, tables)


def _pair(live: list[dict[str, Any]], replay: list[dict[str, Any]], key: list[str]) -> list[RowDiff]:
    """Rows with the same key on both sides are one changed row; the others stand alone."""
    def k(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c] for c in key)

    theirs = {k(r): r for r in replay}
    result = []
    for row in live:
        result.append(RowDiff(dict(zip(key, k(row), strict=True)), row, theirs.pop(k(row), None)))
    for kk, row in theirs.items():
        result.append(RowDiff(dict(zip(key, kk, strict=True)), None, row))
    return sorted(result, key=lambda d: tuple(
        (0, v, "") if isinstance(v, int) else (1, 0, str(v)) for v in d.key.values()))
