"""infra/sql.py's Db on both databases: `executemany` runs its statement row by row (an upsert
touching a row twice sees its first write); `insert_rows` sends many rows in a few statements
(COPY or parts of a multi-row INSERT), upserts by key and refuses a present key otherwise;
`rows_where` reads rows by key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra import sql
from infra.persistence import parse_database_url
from infra.sql import Db, open_datastore, transaction

COLUMNS = (("n", "INTEGER"), ("sku", "TEXT"), ("note", "TEXT"))
ROWS = [(i, f"sku-{i}", None if i % 3 else f"note\x00{i}") for i in range(1, 1234)]


@pytest.fixture
def datastore(database_url: str) -> Iterator[Any]:
    store = open_datastore(parse_database_url(database_url))
    with transaction(store, commit=True) as db:
        db.execute("CREATE TABLE IF NOT EXISTS @rows (n INTEGER PRIMARY KEY, sku TEXT, note TEXT)")
        db.execute("DELETE FROM @rows")
    try:
        yield store
    finally:
        with transaction(store, commit=True) as db:
            db.execute("DROP TABLE @rows")
        store.close()


def _all(db: Db) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) if isinstance(r, dict) else tuple(r)
            for r in db.all("SELECT n, sku, note FROM @rows ORDER BY n")]


class Counting:
    """A cursor that notes each statement it is given, row by row for executemany."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.sent: list[str] = []

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(str(statement))
        return self.cursor.execute(statement, *args, **kwargs)

    def executemany(self, statement: Any, rows: Any, *args: Any, **kwargs: Any) -> Any:
        rows = list(rows)
        self.sent.extend(str(statement) for _ in rows)
        return self.cursor.executemany(statement, rows, *args, **kwargs)

    def copy(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(str(statement))
        return self.cursor.copy(statement, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


def test_rows_of_executemany_are_stored_as_given_row_by_row(datastore: Any) -> None:
    with transaction(datastore, commit=True) as plain:
        counting = Counting(plain.cursor)
        db = Db(counting, plain.dialect)
        db.executemany("INSERT INTO @rows (n, sku, note) VALUES (?, ?, ?)", ROWS)
        stored = _all(plain)
    # NUL cannot be stored in PostgreSQL text: the helper replaces it there, as for one row.
    expected = [(n, s, None if t is None else t.replace("\x00", "\ufffd")) for n, s, t in ROWS]
    assert stored == (expected if db.dialect.is_postgres else ROWS)
    assert len(counting.sent) == len(ROWS)


def test_an_upsert_touching_a_row_twice_sees_its_first_write(datastore: Any) -> None:
    upsert = ("INSERT INTO @rows (n, sku, note) VALUES (?, ?, ?) "
              "ON CONFLICT (n) DO UPDATE SET sku = @rows.sku || '+' || excluded.sku")
    with transaction(datastore, commit=True) as db:
        db.executemany(upsert.replace("@rows.sku", "sku") if not db.dialect.is_postgres else upsert,
                       [(1, "a", None), (1, "b", None), (2, "c", None)])
        assert _all(db) == [(1, "a+b", None), (2, "c", None)]


def test_rows_inserted_in_parts_then_upserted_by_key_and_read_by_keys(datastore: Any) -> None:
    with transaction(datastore, commit=True) as plain:
        counting = Counting(plain.cursor)
        db = Db(counting, plain.dialect)
        db.insert_rows("rows", COLUMNS, ROWS)
        # One COPY on PostgreSQL, one statement per part on SQLite.
        parts = 1 if db.dialect.is_postgres else -(-len(ROWS) // sql.MULTI_ROW_PART)
        assert len(counting.sent) == parts
        changed = [(n, f"{s}!", "changed") for n, s, _ in ROWS[::2]]
        db.insert_rows("rows", COLUMNS, changed, key=("n",))
        stored = _all(plain)
        wanted = [1, 2, 600, 1233, 5000]
        found = sorted(int(r["n"]) for r in db.rows_where("rows", "n", wanted, "n"))
    expected = {n: (n, s, None if t is None else t.replace("\x00", "\ufffd") if db.dialect.is_postgres
                    else t) for n, s, t in ROWS}
    expected.update({n: (n, s, t) for n, s, t in changed})
    assert stored == [expected[n] for n in sorted(expected)]
    assert found == [1, 2, 600, 1233]


def test_a_plain_insert_of_rows_refuses_a_key_present(datastore: Any) -> None:
    with transaction(datastore, commit=True) as db:
        db.insert_rows("rows", COLUMNS, [(1, "a", None)])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), transaction(datastore, commit=True) as db:
        db.insert_rows("rows", COLUMNS, [(2, "b", None), (1, "again", None)])
    with transaction(datastore, commit=False) as db:
        assert _all(db) == [(1, "a", None)]


@pytest.mark.parametrize("count", [1, sql.VALUES_UP_TO, sql.VALUES_UP_TO + 1, sql.COPY_FROM])
def test_a_few_rows_are_stored_and_upserted_as_many_are_each_in_one_statement(
    datastore: Any, count: int,
) -> None:
    """Whichever form the insert takes for its number of rows (each value named, arrays, COPY),
    the rows are stored alike: NULs replaced on PostgreSQL, NULLs kept, an upsert replacing."""
    rows = [(n, f"sku-{n}", None if n % 2 else f"note\x00{n}") for n in range(1, count + 1)]
    with transaction(datastore, commit=True) as plain:
        counting = Counting(plain.cursor)
        db = Db(counting, plain.dialect)
        db.insert_rows("rows", COLUMNS, rows)
        inserted = _all(plain)
        changed = [(n, f"{s}!", None if n % 2 else "changed") for n, s, _ in rows]
        db.insert_rows("rows", COLUMNS, changed, key=("n",))
        upserted = _all(plain)
    nul = "\ufffd" if db.dialect.is_postgres else "\x00"
    assert inserted == [(n, s, None if t is None else t.replace("\x00", nul)) for n, s, t in rows]
    assert upserted == changed
    assert len(counting.sent) == 2
