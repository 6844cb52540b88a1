"""D8 read twice: `owner_on` (the orders family, over owner histories read at once for a run of
events) and `OWNER_ON` (the dealers family's SQL) give the same salesperson for any history."""

from __future__ import annotations

from datetime import date, timedelta

from eventsourcing.sqlite import SQLiteDatastore
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.sql import Db, Dialect
from projections.model import create_tables
from projections.model.base import PREFIX
from projections.model.dealers import OWNER_ON, owner_histories, owner_on

DAYS = st.integers(min_value=0, max_value=40).map(
    lambda n: (date(2026, 3, 1) + timedelta(days=n)).isoformat())
HISTORY = st.lists(st.tuples(DAYS, st.sampled_from(["alice", "bob", "carol"])), max_size=6)


@given(history=HISTORY, on=DAYS)
@settings(max_examples=200, deadline=None)
def test_owner_on_a_day_is_the_sql_expressions(history: list[tuple[str, str]], on: str) -> None:
    store = SQLiteDatastore(":memory:", pool_size=1, max_overflow=0)
    try:
        with store.transaction(commit=True) as cursor:
            db = Db(cursor, Dialect.of(store, PREFIX))
            create_tables(db)
            for position, (effective_on, salesperson) in enumerate(history, start=10):
                db.execute("INSERT INTO @dealer_owners (dealer_id, position, effective_on, salesperson) "
                           "VALUES (?, ?, ?, ?)", ("d1", position, effective_on, salesperson))
            expected = db.scalar(f"SELECT {OWNER_ON}", ("d1", on, "d1"))
            assert owner_on(owner_histories(db, ["d1"]).get("d1", []), on) == expected
    finally:
        store.close()
