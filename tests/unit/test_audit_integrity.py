"""The seal a close records (audit verify): its parts reproduce the chain hash, keep one digest per
event across gaps in the log, and a seal split in many parts still names the event changed."""

from __future__ import annotations

from datetime import date

import pytest
from eventsourcing.persistence import Notification
from hypothesis import given
from hypothesis import strategies as st

from domain.log_seal import LogSeal
from infra import integrity
from services.audit.verify import verify
from tests.builders import memory_app, onboard, publish_prices


def note(position: int, payload: bytes = b"{}") -> Notification:
    return Notification(id=position, originator_id="a" * 32, originator_version=position,
                        topic="t:Agg.Happened", state=payload)


@given(st.lists(st.integers(1, 5), min_size=0, max_size=60), st.integers(1, 7))
def test_o6_seal_parts_give_the_chain_hash_and_every_position_across_gaps(
    steps: list[int], part_size: int
) -> None:
    positions, at = [], 0
    for step in steps:
        at += step
        positions.append(at)
    events = [note(p, str(p).encode()) for p in positions]
    saved = integrity.SEAL_PART
    integrity.SEAL_PART = part_size
    try:
        digest, parts = integrity.seal("prev", events)
    finally:
        integrity.SEAL_PART = saved
    assert digest == integrity.chain_hash("prev", events)
    entries = [e for part in parts for e in part.entries()]
    assert [p for p, _ in entries] == positions
    assert [d for _, d in entries] == [integrity.event_digest(n) for n in events]
    assert integrity.chain_of_digests("prev", (d for _, d in entries)) == digest
    assert all(len(list(part.entries())) <= part_size for part in parts)


def test_o6_a_seal_part_whose_digests_do_not_fit_its_positions_is_refused() -> None:
    part = integrity.pack([(1, b"x" * 32), (2, b"y" * 32)])
    broken = integrity.SealPart([[1, 3]], part.digests)
    with pytest.raises(ValueError):
        list(broken.entries())


def test_o6_the_event_digest_covers_position_aggregate_version_type_and_payload() -> None:
    base = note(7, b'{"a":1}')
    variants = [
        Notification(id=8, originator_id=base.originator_id, originator_version=7,
                     topic=base.topic, state=base.state),
        Notification(id=7, originator_id="b" * 32, originator_version=7, topic=base.topic,
                     state=base.state),
        Notification(id=7, originator_id=base.originator_id, originator_version=6,
                     topic=base.topic, state=base.state),
        Notification(id=7, originator_id=base.originator_id, originator_version=7,
                     topic="t:Agg.Other", state=base.state),
        note(7, b'{"a":2}'),
    ]
    digests = {integrity.event_digest(v) for v in variants}
    assert integrity.event_digest(base) not in digests and len(digests) == len(variants)


def test_o6_a_close_seals_in_parts_and_verify_names_the_event_changed_in_a_later_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(integrity, "SEAL_PART", 3)
    app = memory_app()
    publish_prices(app)
    onboard(app, "active", "A", "east", name="East")
    done = app.close_period("2026-01", date(2026, 2, 1))
    close = app.get_calendar().closes[0]
    covered = int(str(close["covers_to"]))
    parts = -(-covered // 3)
    assert [
        e.topic.rsplit(":", 1)[-1]
        for e in app.recorder.select_notifications(start=covered + 1, limit=100)
    ] == ["LogSeal.Recorded"] * parts + ["AccountingCalendar.Opened",
                                         "AccountingCalendar.MonthClosed"]
    assert done.position == app.recorder.max_notification_id()
    assert verify(app).ok

    target = covered - 1  # in the last part
    with app.recorder.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
        c.execute("UPDATE stored_events SET topic = topic || 'X' WHERE rowid = ?", (target,))
    result = verify(app)
    assert result.first is not None
    assert (result.first.kind, result.first.position) == ("altered", target)

    with app.recorder.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
        c.execute("DELETE FROM stored_events WHERE originator_id = ?",
                  (LogSeal.create_id("2026-01", 1, covered).hex,))
    result = verify(app)
    assert [f.kind for f in result.closes[0].findings] == ["chain"]
    assert "seal part 1 of" in result.closes[0].findings[0].message
