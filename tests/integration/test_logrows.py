"""The log read as plain rows (infra/logrows.py), which the catch-up and the replay decode: the
recorder's notifications, bounded alike, decoded by the library's mapper to the same events."""

from __future__ import annotations

from infra.logrows import RowReader, RowsPostgresApplicationRecorder, StoredRow
from infra.persistence import parse_database_url
from projections.projection import LogReader
from tests.builders import app_for_url, line, onboard, place, publish_prices


def test_the_rows_are_the_recorders_notifications_and_decode_alike(database_url: str) -> None:
    app = app_for_url(database_url)
    try:
        publish_prices(app)
        dealer = onboard(app, "active", tier="AA")
        place(app, dealer, "rows-1", lines=[line("ROUTER", 2), line("SWITCH", 1)])
        head = app.recorder.max_notification_id() or 0
        reader = RowReader(app.recorder)
        assert (reader.found is not None) == database_url.startswith("postgresql")
        for start, limit, stop in [(1, 10_000, None), (1, 3, None), (2, 4, 5), (3, 10, 2),
                                   (head, 10, None), (head + 1, 10, None)]:
            expected = app.recorder.select_notifications(start=start, limit=limit, stop=stop)
            rows = reader.read(start, limit, stop)
            assert all(isinstance(r, StoredRow) for r in rows)
            assert rows == [(n.id, n.originator_id, n.originator_version, n.topic, n.state)
                            for n in expected]
            for row, n in zip(rows, expected, strict=True):
                assert isinstance(row.state, bytes)
                assert vars(app.mapper.to_domain_event(row)) == vars(app.mapper.to_domain_event(n))
        assert len(reader.read(1, 10_000)) == head
    finally:
        app.close()


def test_the_feeds_recorder_selects_rows_as_the_librarys_does(pg_url: str) -> None:
    """The live feed's reader application selects plain rows: the same notifications as the
    library's recorder, from after a position (as its subscription asks) or with topics."""
    app = app_for_url(pg_url)
    reader = LogReader(env=parse_database_url(pg_url).eventsourcing_env())
    try:
        publish_prices(app)
        place(app, onboard(app, "active", tier="SI"), "rows-2")
        head = app.recorder.max_notification_id() or 0
        assert isinstance(reader.recorder, RowsPostgresApplicationRecorder)
        topic = app.recorder.select_notifications(start=1, limit=1)[0].topic
        for start, limit, stop, inclusive, topics in [
            (0, 500, None, False, ()), (2, 3, None, False, ()), (1, 4, 3, True, ()),
            (head, 10, None, False, ()), (0, 500, None, True, (topic,)),
        ]:
            expected = app.recorder.select_notifications(
                start=start, limit=limit, stop=stop, topics=topics, inclusive_of_start=inclusive)
            found = reader.recorder.select_notifications(
                start=start, limit=limit, stop=stop, topics=topics, inclusive_of_start=inclusive)
            assert [(n.id, n.originator_id, n.originator_version, n.topic, n.state)
                    for n in found] == [(n.id, n.originator_id, n.originator_version, n.topic,
                                         n.state) for n in expected]
            assert expected or start == head
    finally:
        reader.close()
        app.close()
