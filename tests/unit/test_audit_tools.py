"""The audit's small parts: the `--as-of` reading of a date (recorded time, end of day), the cut of
a log by recorded time when timestamps are a little out of log order, the progress line, the
table layouts the comparison relies on, and the periods `simulate` spans."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from eventsourcing.persistence import Notification

from domain.errors import InvalidInputError
from domain.values import Month
from projections.model import TABLES
from services.audit.compare import layout
from services.audit.progress import Progress
from services.audit.simulate import _month_range
from services.audit.timeline import last_recorded_by, parse_as_of, recorded_at, resolve
from tests.builders import memory_app, onboard, publish_prices


def test_as_of_a_date_means_the_end_of_that_day_in_utc_and_a_date_time_keeps_its_offset() -> None:
    end = parse_as_of("2026-03-31")
    assert end.date() == date(2026, 3, 31) and end.tzinfo is not None
    assert end < datetime(2026, 4, 1, tzinfo=UTC) <= end + timedelta(microseconds=1)
    assert parse_as_of("2026-04-01T09:00+08:00") == datetime(2026, 4, 1, 1, tzinfo=UTC)
    assert parse_as_of("2026-04-01T09:00") == datetime(2026, 4, 1, 9, tzinfo=UTC)
    with pytest.raises(InvalidInputError) as caught:
        parse_as_of("31/03/2026")
    assert caught.value.field == "as-of"


class FakeRecorder:
    """Notifications whose recorded times are given; enough of a recorder for the cut."""

    def __init__(self, stamps: list[datetime]) -> None:
        self.stamps = stamps

    def _note(self, position: int) -> Notification:
        stamp = self.stamps[position - 1].isoformat()
        state = ('{"timestamp":{"_type_":"datetime_iso","_data_":"' + stamp + '"}}').encode()
        return Notification(id=position, originator_id="x", originator_version=position,
                            topic="t:A.E", state=state)

    def select_notifications(self, start: int, limit: int, stop: int) -> list[Notification]:
        return [self._note(p) for p in range(start, min(stop, start + limit - 1) + 1)]


def test_as_of_takes_every_position_up_to_the_last_one_recorded_by_then() -> None:
    """A command's events are stamped before they are written, so a later position may carry an
    earlier time: the cut is the last position recorded by then, and all before it."""
    day = datetime(2026, 4, 1, tzinfo=UTC)
    stamps = [day + timedelta(hours=h) for h in (1, 2, 30, 3, 31, 32)]  # position 4 is late
    recorder = FakeRecorder(stamps)
    assert last_recorded_by(recorder, None, parse_as_of("2026-04-01"), 6, size=2) == 4  # type: ignore[arg-type]
    assert last_recorded_by(recorder, None, parse_as_of("2026-03-31"), 6, size=2) == 0  # type: ignore[arg-type]
    assert last_recorded_by(recorder, None, parse_as_of("2026-04-02"), 6, size=4) == 6  # type: ignore[arg-type]


def test_recorded_time_is_read_from_the_stored_event_and_the_cut_refuses_bad_positions() -> None:
    app = memory_app()
    publish_prices(app)
    onboard(app, "signed")
    notes = list(app.recorder.select_notifications(start=1, limit=100))
    for n in notes:
        assert recorded_at(n, app.mapper) == app.mapper.to_domain_event(n).timestamp
    head = notes[-1].id
    assert resolve(app.recorder, app.mapper).position == head
    assert resolve(app.recorder, app.mapper, until=3).position == 3
    with pytest.raises(InvalidInputError):
        resolve(app.recorder, app.mapper, until=head + 1)
    with pytest.raises(InvalidInputError):
        resolve(app.recorder, app.mapper, until=1, as_of="2026-01-01")


def test_the_progress_line_shows_count_share_rate_and_eta() -> None:
    stream = io.StringIO()
    bar = Progress("replay", 1000, stream=stream, interval=0, line_interval=0)
    bar.advance(250)
    bar.finish()
    first, last = stream.getvalue().splitlines()
    assert first.startswith("replay [######") and "250/1,000" in first and "25%" in first
    assert "ev/s" in first and "ETA" in first
    assert last.startswith("replay: 250 events in")
    quiet = io.StringIO()
    silent = Progress("replay", 10, stream=quiet, enabled=False)
    silent.advance(10)
    silent.finish()
    assert quiet.getvalue() == ""


def test_every_read_model_table_has_columns_and_a_primary_key_to_compare_by() -> None:
    assert layout(TABLES["allocations"])[1] == ["pool", "month"]
    assert layout(TABLES["sales"])[1] == ["position"]
    assert "lines" in layout(TABLES["sales"])[0]
    for name, ddl in TABLES.items():
        columns, key = layout(ddl)
        assert columns and set(key) <= set(columns), name
        assert key != columns, f"{name}: no primary key found"


def test_simulate_spans_from_the_first_month_of_one_period_to_the_last_of_another() -> None:
    assert _month_range("2026-Q2", "2026-Q3") == (Month(2026, 4), Month(2026, 9))
    assert _month_range("2026-05", None) == (Month(2026, 5), None)
    with pytest.raises(InvalidInputError):
        _month_range("2026-Q3", "2026-04")
