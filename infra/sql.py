"""The one SQL helper, over the library's own datastores (`SQLiteDatastore`, `PostgresDatastore`
with its pool and `.transaction()`): a statement names a table `@name` and a parameter `?` on
both databases. Table names become quoted identifiers — `psycopg.sql.Identifier`, qualified by
the datastore's schema, on PostgreSQL; double-quoted on SQLite — and `?` becomes `%s` on
PostgreSQL. `Db` runs such statements on either database's cursor."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg import pq, sql

from infra.persistence import Database

_TABLE = re.compile(r"@(\w+)")

Datastore = SQLiteDatastore | PostgresDatastore


def sqlite_identifier(name: str) -> str:
    """An SQLite identifier, quoted (a double quote inside doubled)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Dialect:
    """How `@name` and `?` are written on one database; `prefix` goes before every table name (the
    read model's `rm_`)."""

    kind: str  # "sqlite" or "postgres"
    schema: str = ""
    prefix: str = ""

    @classmethod
    def of(cls, datastore: Any, prefix: str = "") -> Dialect:
        if isinstance(datastore, PostgresDatastore):
            return cls("postgres", datastore.schema, prefix)
        return cls("sqlite", prefix=prefix)

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgres"

    def table(self, name: str) -> str:
        return _table(self, name)

    def translate(self, statement: str) -> str:
        return _translate(self, statement)


@lru_cache(maxsize=1024)
def _table(dialect: Dialect, name: str) -> str:
    full = dialect.prefix + name
    if dialect.is_postgres:
        return sql.Identifier(dialect.schema or "public", full).as_string(None)
    return sqlite_identifier(full)


@lru_cache(maxsize=1024)
def _translate(dialect: Dialect, statement: str) -> str:
    text = _TABLE.sub(lambda m: dialect.table(m.group(1)), statement)
    if dialect.is_postgres:
        text = text.replace("?", "%s")
    return text


# Rows per statement of a multi-row INSERT on SQLite, values per `IN` list.
MULTI_ROW_PART = 500


def _on_conflict(columns: Iterable[str], key: tuple[str, ...]) -> str:
    if not key:
        return ""
    changed = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {changed}"


@lru_cache(maxsize=256)
def _unnest_text(dialect: Dialect, table: str, columns: tuple[tuple[str, str], ...],
                 key: tuple[str, ...]) -> str:
    names = [c for c, _ in columns]
    arrays = ", ".join(f"?::{kind}[]" for _, kind in columns)
    text = f"INSERT INTO @{table} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
    return dialect.translate(text + _on_conflict(names, key))


@lru_cache(maxsize=256)
def _typed_values_text(dialect: Dialect, table: str, columns: tuple[tuple[str, str], ...],
                       count: int, key: tuple[str, ...]) -> str:
    names = [c for c, _ in columns]
    row = "(" + ", ".join(f"?::{kind}" for _, kind in columns) + ")"
    text = f"INSERT INTO @{table} ({', '.join(names)}) VALUES {', '.join([row] * count)}"
    return dialect.translate(text + _on_conflict(names, key))


@lru_cache(maxsize=512)
def _values_text(dialect: Dialect, table: str, columns: tuple[str, ...], count: int,
                 key: tuple[str, ...]) -> str:
    row = "(" + ", ".join("?" * len(columns)) + ")"
    text = f"INSERT INTO @{table} ({', '.join(columns)}) VALUES {', '.join([row] * count)}"
    return dialect.translate(text + _on_conflict(columns, key))


# Rows from which a plain insert on PostgreSQL goes by COPY (two round trips, the cheapest per row).
COPY_FROM = 32
# Rows up to which an insert on PostgreSQL names each value (`VALUES (?::type, …)`): psycopg
# dumps a value in a fraction of the time it takes to dump an array of one (the live feed's runs
# are of an order or two: 65 µs instead of 140 µs of a 17-column row, measured with psycopg 3.3).
VALUES_UP_TO = 2


def _pipelined(cursor: Any) -> bool:
    return bool(cursor.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF)


@lru_cache(maxsize=64)
def _copy_text(dialect: Dialect, table: str, columns: tuple[str, ...]) -> str:
    return f"COPY {dialect.table(table)} ({', '.join(columns)}) FROM STDIN"


def _any_nul(column: Sequence[Any]) -> bool:
    """Whether a text in `column` (texts and NULLs, as a TEXT column holds) has a NUL: one scan of
    them all joined, rather than a test of each."""
    try:
        return "\x00" in "".join(filter(None, column))
    except TypeError:  # not texts only
        return any(isinstance(v, str) and "\x00" in v for v in column)


def _no_nul(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; an event carrying one must not stall the projection.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


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
        """One statement run for each row (an upsert may touch a row twice); several rows of a
        plain insert go faster by `insert_rows`."""
        values = [self._params(r) for r in rows]
        if values:
            self.cursor.executemany(self.dialect.translate(statement), values)

    def insert_rows(self, table: str, columns: Sequence[tuple[str, str]],
                    rows: Sequence[Sequence[Any]], *, key: Sequence[str] = ()) -> None:
        """Insert `rows` (values in the order of `columns`: (name, SQL type) pairs) into `@table`
        in a few statements, whatever their number. On PostgreSQL, up to `VALUES_UP_TO` rows one
        statement naming each value; more, one statement whose parameters are one array per
        column (`unnest`: its text stays short, so psycopg keeps it parsed and the server
        prepared), or for `COPY_FROM` rows or more of a plain insert, outside pipeline mode
        (which cannot COPY), a COPY; on SQLite one statement of many rows per
        `MULTI_ROW_PART`. With `key` (the primary key's columns), a row whose key is present
        replaces that row's other columns (an upsert); without it, such a row fails the statement
        as a plain INSERT does."""
        if not rows:
            return
        names = tuple(c for c, _ in columns)
        if self.dialect.is_postgres:
            texts = [i for i, (_, kind) in enumerate(columns) if kind.upper() == "TEXT"]
            arrays: list[Sequence[Any]] = list(zip(*rows, strict=True))
            nul = [i for i in texts if _any_nul(arrays[i])]
            for i in nul:
                arrays[i] = [_no_nul(v) for v in arrays[i]]
            if len(rows) <= VALUES_UP_TO:
                values = [v for row in (zip(*arrays, strict=True) if nul else rows) for v in row]
                self.cursor.execute(_typed_values_text(self.dialect, table, tuple(columns),
                                                       len(rows), tuple(key)),
                                    values, prepare=True, binary=True)
                return
            if not key and len(rows) >= COPY_FROM and not _pipelined(self.cursor):
                if nul:
                    rows = list(zip(*arrays, strict=True))
                with self.cursor.copy(_copy_text(self.dialect, table, names)) as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            self.cursor.execute(_unnest_text(self.dialect, table, tuple(columns), tuple(key)),
                                [list(a) for a in arrays], prepare=True, binary=True)
            return
        for start in range(0, len(rows), MULTI_ROW_PART):
            part = rows[start:start + MULTI_ROW_PART]
            self.cursor.execute(_values_text(self.dialect, table, names, len(part), tuple(key)),
                                [v for row in part for v in row])

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """On PostgreSQL, the statements within sent in pipeline mode (if not already): those
        whose results are not read go out without waiting for the server's answer one by one;
        a read waits for the statements before it. Nothing changes on SQLite."""
        if not self.dialect.is_postgres or _pipelined(self.cursor):
            yield
            return
        with self.cursor.connection.pipeline():
            yield

    def rows_where(self, table: str, column: str, values: Iterable[Any], columns: str = "*") -> list[Any]:
        """The rows of `@table` whose `column` is one of `values`: on PostgreSQL one statement
        (`= ANY` of an array), on SQLite one per `MULTI_ROW_PART` values."""
        wanted = list(values)
        if not wanted:
            return []
        if self.dialect.is_postgres:
            return self.all(f"SELECT {columns} FROM @{table} WHERE {column} = ANY(?)", (wanted,))
        found: list[Any] = []
        for start in range(0, len(wanted), MULTI_ROW_PART):
            part = wanted[start:start + MULTI_ROW_PART]
            marks = ", ".join("?" * len(part))
            found += self.all(f"SELECT {columns} FROM @{table} WHERE {column} IN ({marks})", part)
        return found

    def _params(self, params: Sequence[Any]) -> tuple[Any, ...]:
        if not self.dialect.is_postgres:
            return tuple(params)
        return tuple(_no_nul(p) for p in params)

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
        return row[0] if not self.dialect.is_postgres else next(iter(row.values()))


@contextmanager
def transaction(datastore: Datastore, *, commit: bool, prefix: str = "") -> Iterator[Db]:
    """A `Db` in one transaction of the datastore (committed on exit when `commit`, else rolled
    back)."""
    with datastore.transaction(commit=commit) as cursor:
        yield Db(cursor, Dialect.of(datastore, prefix))


def open_datastore(database: Database, *, pool_size: int = 1, max_overflow: int = 3) -> Datastore:
    """The library's datastore of a database URL, for tables that live beside the event store (API
    keys, a tool reading the relay's state). The caller closes it."""
    if database.is_postgres:
        return PostgresDatastore(database.dbname, database.host, database.port, database.user,
                                 database.password, schema=database.schema, pool_size=pool_size,
                                 max_overflow=max_overflow, connect_timeout=10, lock_timeout=10)
    if database.path == ":memory:":
        # One connection, or each would see a database of its own.
        return SQLiteDatastore(database.path, lock_timeout=10, pool_size=1, max_overflow=0)
    return SQLiteDatastore(database.path, lock_timeout=10, pool_size=pool_size,
                           max_overflow=max_overflow)


def advisory_key(schema: str, purpose: str) -> int:
    """A PostgreSQL advisory-lock key (signed 64 bits) per schema and purpose."""
    digest = hashlib.sha256(f"channel-ledger/{schema}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def advisory_lock(datastore: PostgresDatastore, purpose: str) -> Iterator[None]:
    """Hold a session advisory lock: processes that create the same tables take turns (CREATE ...
    IF NOT EXISTS is not safe against another process doing the same at once)."""
    key = advisory_key(datastore.schema, purpose)
    with datastore.get_connection() as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", (key,))
