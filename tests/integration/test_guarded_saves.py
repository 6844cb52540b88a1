"""The guarded save (infra/recorders.py) on both stores: a save whose expected versions still hold
is stored, with notification ids in log order; one naming an aggregate that moved on, or one that
was expected not to exist, is refused as a conflict and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from infra.persistence import parse_database_url
from services.application import ChannelLedger
from tests.builders import app_for_url


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


@pytest.fixture
def app(database_url: str) -> Iterator[ChannelLedger]:
    ledger = app_for_url(database_url)
    yield ledger
    ledger.close()


def stored(app: ChannelLedger) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_save_whose_expected_versions_hold_is_stored_in_log_order(app: ChannelLedger) -> None:
    watched = Counter("watched")
    app.save(watched)
    before = stored(app)
    one, two = Counter("one"), Counter("two")
    two.count_one()
    recordings = app.save(one, two, expected_versions={watched.id: 1, uuid4(): None})
    ids = [r.notification.id for r in recordings]
    assert ids == list(range(before + 1, before + 4))
    assert stored(app) == before + 3


def test_a_save_naming_a_moved_aggregate_is_refused_and_stores_nothing(app: ChannelLedger) -> None:
    watched = Counter("watched")
    app.save(watched)
    moved = app.repository.get(watched.id)
    moved.count_one()
    app.save(moved)
    before = stored(app)
    with pytest.raises(IntegrityError, match="changed concurrently"):
        app.save(Counter("late"), expected_versions={watched.id: 1})
    with pytest.raises(IntegrityError, match="changed concurrently"):
        app.save(Counter("late"), expected_versions={watched.id: None})
    assert stored(app) == before


def test_an_aggregate_expected_not_to_exist_that_does_is_a_conflict(app: ChannelLedger) -> None:
    existing = Counter("existing")
    app.save(existing)
    before = stored(app)
    with pytest.raises(IntegrityError):
        app.save(Counter("other"), expected_versions={existing.id: None})
    assert stored(app) == before


def test_each_save_on_postgresql_reports_where_a_watched_aggregate_last_wrote(pg_url: str) -> None:
    app, other = app_for_url(pg_url), app_for_url(pg_url)
    try:
        watched = Counter("watched")
        app.recorder.watch(watched.id)  # type: ignore[attr-defined]
        assert app.recorder.watched() == (0, 0)  # type: ignore[attr-defined]
        first = app.save(watched)[-1].notification.id
        assert app.recorder.watched() == (first, first)  # type: ignore[attr-defined]
        moved = other.repository.get(watched.id)
        moved.count_one()
        by_other = other.save(moved)[-1].notification.id  # written elsewhere, unseen so far
        assert app.recorder.watched() == (first, first)  # type: ignore[attr-defined]
        later = app.save(Counter("unrelated"))[-1].notification.id
        assert app.recorder.watched() == (later, by_other)  # type: ignore[attr-defined]
    finally:
        app.close()
        other.close()


def test_the_watched_lookup_reads_the_aggregates_own_rows_whatever_the_log_holds(pg_url: str) -> None:
    """Where the watched aggregate last wrote is one probe of the primary key, not a scan of the
    log from its end (which reads the whole log for an aggregate that has not written yet): the
    cost of every save stays flat as the log grows. Seen in the plan PostgreSQL runs inside the
    save's function (auto_explain, its plans sent to this session as notices)."""
    app = app_for_url(pg_url)
    try:
        # A log as a ledger's: aggregates with many events each (a dealer's, a credit line's).
        others = [Counter("other") for _ in range(20)]
        for _ in range(200):
            for other in others:
                other.count_one()
        app.save(*others)
        recorder = app.recorder
        schema = recorder.datastore.schema  # type: ignore[attr-defined]
        table = recorder.events_table_name  # type: ignore[attr-defined]
        plans: list[str] = []
        with psycopg.connect(parse_database_url(pg_url).conninfo(), autocommit=True) as conn:
            conn.execute(f'ANALYZE "{schema}"."{table}"')
            conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
            for setting in ("auto_explain.log_min_duration = 0",
                            "auto_explain.log_nested_statements = on",
                            "auto_explain.log_analyze = on", "auto_explain.log_level = notice"):
                conn.execute(f"SET {setting}")
            conn.execute("LOAD 'auto_explain'")
            # Ten saves in one session, as a worker's connection makes them: from the sixth on,
            # PostgreSQL may run the function's statements on a generic plan.
            for _ in range(10):  # the recorder's own statement, saving nothing
                conn.execute(recorder.guarded_insert_statement,  # type: ignore[attr-defined]
                             ([], [], [], uuid4()))
        lookup = [plan for plan in plans if "originator_id = watched" in plan]
        assert len(lookup) == 10, plans
        for plan in lookup:
            assert "_pkey" in plan and "Rows Removed by Filter" not in plan, plan
    finally:
        app.close()
