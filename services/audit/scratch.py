"""Scratch areas for the audit: a schema of its own on PostgreSQL, a file of its own on SQLite (the
library's SQLite tracking table has one fixed name, so a separate file avoids any clash), holding a
read model rebuilt from the log. Dropped afterwards unless kept."""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import psycopg
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment
from psycopg import sql
from psycopg.sql import Identifier

from domain.errors import InvalidInputError
from infra.persistence import Database, parse_database_url
from projections.projection import ChannelProjection
from projections.views import ChannelView, PostgresChannelView, SQLiteChannelView

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _factory(env: dict[str, str]) -> InfrastructureFactory:
    """The projection's factory, as `ProjectionRunner` builds it (same tracking table names)."""
    return InfrastructureFactory.construct(
        env=Environment(ChannelProjection.name, {**os.environ, **env})
    )


def open_view(database: Database) -> ChannelView:
    """The read-model view stored at `database` (tables created if missing)."""
    env = database.eventsourcing_env()
    if database.is_postgres:
        return cast(PostgresChannelView, _factory(env).tracking_recorder(PostgresChannelView))
    return cast(SQLiteChannelView, _factory(env).tracking_recorder(SQLiteChannelView))


def close_view(view: ChannelView) -> None:
    view.datastore.close()  # type: ignore[attr-defined]


def tracking_table(view: ChannelView) -> str:
    """The view's tracking table, as the library names it (schema-qualified on PostgreSQL)."""
    if isinstance(view, PostgresChannelView):
        return Identifier(view.datastore.schema, view.tracking_table_name).as_string(None)
    return "tracking"


@dataclass
class Scratch:
    """A rebuilt read model: where it lives (`database`, its URL) and its view."""

    database: Database
    view: ChannelView

    @property
    def url(self) -> str:
        return self.database.url

    @property
    def location(self) -> str:
        """`schema S` or `file F`, for messages."""
        if self.database.is_postgres:
            return f"schema {self.database.schema}"
        return f"file {self.database.path}"

    def close(self) -> None:
        close_view(self.view)

    def drop(self) -> None:
        self.close()
        drop_storage(self.database)


def drop_storage(database: Database) -> None:
    """Remove a scratch schema (PostgreSQL) or file (SQLite) and all it holds."""
    if database.is_postgres:
        with psycopg.connect(database.conninfo(), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(database.schema)))
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(database.path + suffix).unlink(missing_ok=True)


def create(live: Database, name: str | None = None) -> Scratch:
    """A new, empty scratch area beside `live`: refused if `name` is already taken."""
    if live.is_postgres:
        schema = name or f"audit_{uuid.uuid4().hex[:12]}"
        if not _SCHEMA_NAME.match(schema):
            raise InvalidInputError(
                f"scratch: {schema!r} is not a plain lower-case schema name", field="scratch")
        if schema == (live.schema or "public"):
            raise InvalidInputError("scratch: that is the live schema", field="scratch")
        with psycopg.connect(live.conninfo(), autocommit=True) as conn:
            try:
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            except psycopg.errors.DuplicateSchema:
                raise InvalidInputError(
                    f"scratch: schema {schema} exists already; name another or drop it",
                    field="scratch") from None
        database = live.with_schema(schema)
    else:
        if name:
            path = Path(name).resolve()
        elif live.path == ":memory:":
            path = Path(tempfile.gettempdir()) / f"channel-audit-{uuid.uuid4().hex[:12]}.db"
        else:
            stem = Path(live.path)
            path = stem.with_name(f"{stem.stem}.audit-{uuid.uuid4().hex[:12]}.db")
        if path.exists():
            raise InvalidInputError(f"scratch: {path} exists already", field="scratch")
        if live.path != ":memory:" and path == Path(live.path).resolve():
            raise InvalidInputError("scratch: that is the live database file", field="scratch")
        database = parse_database_url(f"sqlite:///{path}")
    try:
        view = open_view(database)
    except BaseException:
        drop_storage(database)
        raise
    return Scratch(database, view)
