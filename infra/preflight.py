"""Checks a process runs before it builds anything on a database: an SQLite file that must exist
(a typo would otherwise create an empty store), a PostgreSQL server that must answer (said within
seconds: refused host, failed login or missing database), and the files the embedded default makes
readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from domain.errors import InvalidInputError
from infra.persistence import Database, parse_database_url

# Seconds one connection attempt may take before PostgreSQL is reported unreachable.
CONNECT_TIMEOUT = 3
SQLITE_SUFFIXES = ("", "-wal", "-shm")


def check_database(url: str, *, create: bool = False) -> Database:
    """Raise InvalidInputError, one line naming the problem, unless the database can be used.
    `create`: an SQLite file that does not exist is made (owner-only); without it, refused."""
    database = parse_database_url(url)
    if database.is_postgres:
        check_postgres(database)
    elif database.path != ":memory:":
        path = Path(database.path)
        if not path.exists():
            if not create:
                raise InvalidInputError(
                    f"database: no SQLite file {path} (check the path; `--create` makes a new "
                    "store, `channel demo` and `channel serve` make one themselves)",
                    field="database")
            create_private_file(path)
        else:
            restrict(path)
    return database


def create_private_file(path: Path) -> None:
    """An empty file readable and writable by its owner only (SQLite gives its -wal and -shm
    files the database file's mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    restrict(path)


def restrict(path: Path) -> None:
    """Mode 0600 on the store's files that this user owns (a file of another user is left)."""
    for suffix in SQLITE_SUFFIXES:
        file = Path(f"{path}{suffix}")
        try:
            if file.stat().st_uid == os.geteuid() and file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except OSError:
            continue


def check_postgres(database: Database, timeout: int = CONNECT_TIMEOUT) -> None:
    """Connect once with a short timeout and say what is wrong, before any pool is built (a pool
    would wait its full timeout and then say only that it timed out)."""
    try:
        with psycopg.connect(database.conninfo(), connect_timeout=timeout, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        raise InvalidInputError(describe_connect_error(database, error), field="database") from None


def describe_connect_error(database: Database, error: psycopg.Error) -> str:
    """One line: which of host, login or database is wrong."""
    where = f"{database.host}:{database.port}"
    text = " ".join(str(error).split())
    lowered = text.lower()
    state = getattr(error, "sqlstate", None) or ""
    if state == "3D000" or ("database" in lowered and "does not exist" in lowered):
        return f"database: PostgreSQL at {where} has no database {database.dbname!r}"
    if state in ("28P01", "28000") or "authentication failed" in lowered or (
        "role" in lowered and "does not exist" in lowered
    ):
        return (f"database: PostgreSQL at {where} refused the login of user "
                f"{database.user or '(default)'!r}: {_last_clause(text)}")
    if "timeout" in lowered or "timed out" in lowered:
        return f"database: PostgreSQL at {where} did not answer within {CONNECT_TIMEOUT} s"
    if "refused" in lowered or "could not translate host name" in lowered or "no route" in lowered:
        return f"database: PostgreSQL host {where} refused the connection or is unknown"
    return f"database: cannot connect to PostgreSQL at {where}: {_last_clause(text)}"


def _last_clause(text: str) -> str:
    # libpq prefixes every message with "connection to server at ... failed:"
    return text.rsplit("failed:", 1)[-1].strip()[:200]
