"""One SQL text for SQLite and PostgreSQL: `@name` names a read-model table (schema-qualified on
PostgreSQL) and `?` a parameter; `Db` runs such statements on either database's cursor."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_TABLE = re.compile(r"@(\w+)")
PREFIX = "rm_"


@dataclass(frozen=True)
class Dialect:
    kind: str  # "sqlite" or "postgres"
    schema: str = ""

    def table(self, name: str) -> str:
        if self.kind == "postgres":
            return f'"{self.schema or "public"}"."{PREFIX}{name}"'
        return f"{PREFIX}{name}"

    def translate(self, statement: str) -> str:
        return _translate(self, statement)


@lru_cache(maxsize=512)
def _translate(dialect: Dialect, statement: str) -> str:
    text = _TABLE.sub(lambda m: dialect.table(m.group(1)), statement)
    if dialect.kind == "postgres":
        text = text.replace("?", "%s")
    return text


class Db:
    """A cursor plus its dialect. Rows are mappings (column name → value) on both databases."""

    def __init__(self, cursor: Any, dialect: Dialect, reader: Callable[[], Any] | None = None):
        self.cursor = cursor
        self.dialect = dialect
        # Statements whose rows are read run on a cursor of their own from `reader`: in
        # PostgreSQL's pipeline mode a cursor with several statements in flight may hand back
        # another statement's result.
        self.reader = reader

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(self.dialect.translate(statement), self._params(params))

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        values = [self._params(r) for r in rows]
        if values:
            self.cursor.executemany(self.dialect.translate(statement), values)

    def _params(self, params: Sequence[Any]) -> tuple[Any, ...]:
        if self.dialect.kind != "postgres":
            return tuple(params)
        # PostgreSQL text cannot hold NUL; an event carrying one must not stall the projection.
        return tuple(p.replace("\x00", "\ufffd") if isinstance(p, str) and "\x00" in p else p for p in params)

    def _query(self, statement: str, params: Sequence[Any]) -> Any:
        cursor = self.reader() if self.reader is not None else self.cursor
        cursor.execute(self.dialect.translate(statement), self._params(params))
        return cursor

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self._query(statement, params).fetchall())

    def one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self._query(statement, params).fetchone()

    def scalar(self, statement: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(statement, params)
        if row is None:
            return None
        return row[0] if self.dialect.kind == "sqlite" else next(iter(row.values()))
