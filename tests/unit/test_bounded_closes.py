"""Closes whatever the size of the month (O6, R5, S2, audit): every save of a close and of its
follow-up is bounded in events and bytes, an interrupted close or follow-up is resumed without a
collision or a duplicate, a big dealer's evidence goes into parts, the evidence of all slips is
read in the same few queries however many dealers there are, and verify still names the event
and the slips an alteration touches."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import RuleViolationError
from domain.log_seal import LogSeal
from domain.rebate_slip import RebateSlip
from domain.slip_evidence import SlipEvidence
from domain.values import Month
from infra import integrity, reads
from infra.settings import Settings
from projections.projection import ChannelProjection, catch_up
from projections.views import SQLiteChannelView
from services.application import ChannelLedger
from services.audit.verify import verify
from services.runtime import Runtime, build_runtime
from tests.builders import POLICY, fulfil, line, onboard, place, publish_prices

JANUARY_CLOSED_ON = date(2026, 2, 1)


@pytest.fixture
def rt() -> Iterator[Runtime]:
    runtime = build_runtime(Settings().with_database("sqlite:///:memory:"), initial_policy=POLICY,
                            clock=lambda: date(2026, 12, 31))
    publish_prices(runtime.app)
    yield runtime
    runtime.close()


def january(app: ChannelLedger, dealers: dict[str, int]) -> dict[str, str]:
    """Active tier-SI dealers, each with `n` delivered orders in January (its first among them).
    Returns the dealer ids by name."""
    ids: dict[str, str] = {}
    for name, n in dealers.items():
        dealer_id = onboard(app, "active", "SI", "west", name=name)
        ids[name] = dealer_id
        fulfil(app, str(app.find_order(dealer_id, "first").id), date(2026, 1, 11))  # type: ignore[union-attr]
        for k in range(1, n):
            order_id = place(app, dealer_id, f"jan-{k}", on=date(2026, 1, 12), lines=[line(qty=k)])
            fulfil(app, order_id, date(2026, 1, 12 + k % 15))
    return ids


def record_saves(app: ChannelLedger, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(events, bytes of stored state) of every insert into the store from now on."""
    saves: list[tuple[int, int]] = []
    insert = app.recorder.insert_events

    def recording(stored_events: Any, **kwargs: Any) -> Any:
        saves.append((len(stored_events), sum(len(e.state) for e in stored_events)))
        return insert(stored_events, **kwargs)

    monkeypatch.setattr(app.recorder, "insert_events", recording)
    return saves


def tamper(app: ChannelLedger, position: int, old: bytes, new: bytes) -> None:
    with app.recorder.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
        c.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,))
        state = bytes(c.fetchone()[0])
        assert old in state
        c.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                  (state.replace(old, new), position))


def positions_of(app: ChannelLedger, suffix: str, originator: Any = None) -> list[int]:
    return [n.id for n in app.recorder.select_notifications(start=1, limit=100_000)
            if n.topic.endswith(suffix) and (originator is None or n.originator_id == originator)]


# --- the close's seal ------------------------------------------------------------------------------


def test_o6_a_close_sends_its_seal_in_saves_bounded_in_events_and_bytes_before_its_close(
    app: ChannelLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    january(app, {"West": 3, "North": 2})
    monkeypatch.setattr(integrity, "SEAL_PART", 4)
    part_bytes = 400  # a part of four digests is a little more than 300 bytes stored
    app.save_max_events, app.save_max_bytes = 3, 2 * part_bytes
    saves = record_saves(app, monkeypatch)
    done = app.close_period("2026-01", JANUARY_CLOSED_ON)

    close = app.get_calendar().closes[0]
    covered = int(str(close["covers_to"]))
    parts = -(-covered // 4)
    assert parts > 6  # enough for several saves under either bound
    *seal_saves, close_save = saves
    assert sum(n for n, _ in seal_saves) == parts
    assert all(n <= 2 and size <= 2 * part_bytes for n, size in seal_saves)  # bytes bound first
    assert close_save[0] == 2  # the calendar's opening and its MonthClosed, last and alone
    assert positions_of(app, "LogSeal.Recorded") == list(range(covered + 1, covered + parts + 1))
    assert done.position == app.recorder.max_notification_id()
    assert verify(app).ok


def test_o6_parts_left_by_an_interrupted_close_never_collide_with_the_retry_which_covers_them(
    app: ChannelLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    january(app, {"West": 3})
    monkeypatch.setattr(integrity, "SEAL_PART", 3)
    app.save_max_events = 2
    saved = 0
    original = app._save

    def power_cut(*aggregates: Any, **kwargs: Any) -> int | None:
        nonlocal saved
        if saved == 2:
            raise RuntimeError("power cut")
        saved += 1
        return original(*aggregates, **kwargs)

    monkeypatch.setattr(app, "_save", power_cut)
    with pytest.raises(RuntimeError):
        app.close_period("2026-01", JANUARY_CLOSED_ON)
    monkeypatch.setattr(app, "_save", original)
    left = positions_of(app, "LogSeal.Recorded")
    assert len(left) == 4 and app.get_calendar().closes == []
    stopped = verify(app)  # parts without a close: a removed close looks the same
    assert [(f.kind, f.month) for f in stopped.findings] == [("close", "2026-01")]

    app.close_period("2026-01", JANUARY_CLOSED_ON)
    close = app.get_calendar().closes[0]
    assert max(left) <= int(str(close["covers_to"]))  # the retry sealed the leftovers
    result = verify(app)
    assert result.ok and result.closes[0].events == int(str(close["covers_to"]))


def test_o6_verify_still_checks_a_close_whose_seal_went_out_with_it_named_after_the_month(
    app: ChannelLedger,
) -> None:
    """Stores closed by earlier releases: the parts in the close's own save, named by month
    and part number."""
    ids = january(app, {"West": 2})
    calendar = app.get_calendar()
    covers_to = app.recorder.max_notification_id() or 0
    digest, parts = integrity.seal("", integrity.read_range(app.recorder, 1, covers_to))
    seals = [LogSeal(month="2026-01", part=i, positions=p.positions, digests=p.digests)
             for i, p in enumerate(parts)]
    calendar.close(Month(2026, 1), JANUARY_CLOSED_ON, covers_to, digest, seal_parts=len(seals))
    app.save(*seals, calendar)
    assert verify(app).ok
    order = app.find_order(ids["West"], "jan-1")
    assert order is not None
    target = positions_of(app, "Order.Delivered", order.id)[0]
    tamper(app, target, b'"delivered_on"', b'"delivered_oN"')
    result = verify(app)
    assert result.first is not None
    assert (result.first.kind, result.first.position, result.first.month) == (
        "altered", target, "2026-01")


# --- slips: bounded, resumable, evidence set-based and in parts ------------------------------------


def test_r5_a_big_dealers_evidence_goes_into_parts_and_verify_names_its_slip_on_an_altered_delivery(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "EVIDENCE_INLINE", 3)
    monkeypatch.setattr(integrity, "SEAL_PART", 2)
    ids = january(rt.app, {"Big": 4, "Small": 1})
    rt.sync(rt.app.close_period("2026-01", JANUARY_CLOSED_ON).position)
    big = rt.app.get_slip(RebateSlip.create_id(ids["Big"], "2026-01"))
    small = rt.app.get_slip(RebateSlip.create_id(ids["Small"], "2026-01"))
    # Big: its registered tier, agreement and four deliveries, in three parts; Small: tier,
    # agreement and one delivery, inline.
    assert big.evidence_positions == [] and big.evidence_digests == ""
    assert len(positions_of(rt.app, "SlipEvidence.Recorded")) == 3
    part = rt.app.repository.get(SlipEvidence.create_id(str(big.id), 0))
    assert (part.parts, part.dealer_id) == (3, ids["Big"])
    assert sum(last - first + 1 for first, last in small.evidence_positions) == 3
    assert max(positions_of(rt.app, "SlipEvidence.Recorded")) < positions_of(
        rt.app, "RebateSlip.Issued", big.id)[0]
    checked = verify(rt.app)
    assert checked.ok and checked.slips == 2

    order = rt.app.find_order(ids["Big"], "jan-2")
    assert order is not None
    target = positions_of(rt.app, "Order.Delivered", order.id)[0]
    tamper(rt.app, target, b'"delivered_on"', b'"delivered_oN"')
    named = [f for f in verify(rt.app).findings if f.position == target]
    assert [f.kind for f in named] == ["altered"]
    assert f"the rebate slip of 2026-01 for dealer {ids['Big']}" in named[0].message


def test_r5_verify_reports_a_missing_part_of_a_slips_evidence(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "EVIDENCE_INLINE", 3)
    monkeypatch.setattr(integrity, "SEAL_PART", 2)
    ids = january(rt.app, {"Big": 4})
    rt.sync(rt.app.close_period("2026-01", JANUARY_CLOSED_ON).position)
    slip_id = str(RebateSlip.create_id(ids["Big"], "2026-01"))
    with rt.app.recorder.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
        c.execute("DELETE FROM stored_events WHERE originator_id = ?",
                  (SlipEvidence.create_id(slip_id, 1).hex,))
    messages = [f.message for f in verify(rt.app).findings if f.kind == "slip"]
    assert any("its evidence part 1 is missing" in m for m in messages)
    assert any("its evidence does not give its hash" in m for m in messages)


def test_r5_slips_saved_in_bounded_batches_resume_after_a_crash_and_the_close_is_done_after_the_last(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(integrity, "EVIDENCE_INLINE", 2)
    monkeypatch.setattr(integrity, "SEAL_PART", 2)
    ids = january(rt.app, {"A1": 3, "A2": 1, "A3": 2, "A4": 1, "A5": 3})
    rt.sync(None)
    done = rt.app.close_period("2026-01", JANUARY_CLOSED_ON)
    rt.app.save_max_events = 2
    saved = 0
    original = rt.app._save

    def power_cut(*aggregates: Any, **kwargs: Any) -> int | None:
        nonlocal saved
        if saved == 3:
            raise RuntimeError("power cut")
        saved += 1
        return original(*aggregates, **kwargs)

    monkeypatch.setattr(rt.app, "_save", power_cut)
    with caplog.at_level(logging.ERROR, logger="services.runtime"):
        rt.sync(done.position)  # the follow-up stops after three saves: logged, retried later
    assert "a close follow-up failed" in caplog.text
    monkeypatch.setattr(rt.app, "_save", original)
    assert 0 < len(positions_of(rt.app, "RebateSlip.Issued")) < len(ids)
    assert [str(m) for m, _, _ in rt.managers.pending()] == ["2026-01"]  # not done yet

    rt.sync(None)
    assert rt.managers.pending() == []
    issued = positions_of(rt.app, "RebateSlip.Issued")
    assert len(issued) == len(ids)  # each dealer's slip once
    assert len({rt.app.recorder.select_notifications(start=p, limit=1)[0].originator_id
                for p in issued}) == len(ids)
    assert len(rt.reports.slips(period="2026-01")) == len(ids)
    assert verify(rt.app).ok


def store_reads_of_a_follow_up(dealers: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many times the follow-up of a close (slips, allocations) reads the event log, for a
    January with `dealers` dealers (the pools it allocates are loaded one by one: there are few)."""
    runtime = build_runtime(Settings().with_database("sqlite:///:memory:"), initial_policy=POLICY,
                            clock=lambda: date(2026, 12, 31))
    try:
        publish_prices(runtime.app)
        january(runtime.app, {f"D{i}": 2 for i in range(dealers)})
        runtime.sync(None)
        runtime.app.close_period("2026-01", JANUARY_CLOSED_ON)
        catch_up(runtime.app, runtime.projection)  # the close projected, its follow-up pending
        count = 0

        def counted(read: Any) -> Any:
            def counting(*args: Any, **kwargs: Any) -> Any:
                nonlocal count
                count += 1
                return read(*args, **kwargs)
            return counting

        recorder = runtime.app.recorder
        with monkeypatch.context() as m:
            m.setattr(recorder, "select_notifications", counted(recorder.select_notifications))
            m.setattr(recorder, "select_events", counted(recorder.select_events))
            m.setattr(reads, "select_at", counted(reads.select_at))
            m.setattr(reads, "existing", counted(reads.existing))
            runtime.managers.run_pending()
        assert runtime.managers.pending() == []
        assert len(positions_of(runtime.app, "RebateSlip.Issued")) == dealers
        return count
    finally:
        runtime.close()


def test_r5_issuing_reads_the_evidence_of_all_slips_in_the_same_few_queries_whatever_the_dealers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    few, many = store_reads_of_a_follow_up(2, monkeypatch), store_reads_of_a_follow_up(7, monkeypatch)
    assert few == many <= 5


# --- reading scattered events; catch-up -------------------------------------------------------------


@pytest.mark.parametrize("persistence", ["eventsourcing.sqlite", "eventsourcing.popo"])
@settings(max_examples=20, deadline=None)
@given(wanted=st.sets(st.integers(1, 90), max_size=40))
def test_o6_events_read_at_scattered_positions_are_those_the_log_holds_there(
    persistence: str, wanted: set[int]
) -> None:
    app = ChannelLedger({"PERSISTENCE_MODULE": persistence, "SQLITE_DBNAME": ":memory:"},
                        initial_policy=POLICY)
    try:
        publish_prices(app)
        ids = january(app, {"West": 3})
        head = app.recorder.max_notification_id() or 0
        by_range = {n.id: n for n in app.recorder.select_notifications(start=1, limit=1000)}
        found = list(integrity.read_positions(app.recorder, wanted))
        assert [n.id for n in found] == sorted(p for p in wanted if p <= head)
        assert all(n == by_range[n.id] for n in found)
        assert integrity.digests_at(app.recorder, wanted) == {
            n.id: integrity.event_digest(n) for n in found}
        dealer = app.get_dealer(ids["West"]).id
        absent = RebateSlip.create_id(ids["West"], "2026-01")
        assert reads.existing(app.recorder, [dealer, absent]) == {dealer}
    finally:
        app.close()


def test_a_catch_up_returns_how_many_events_it_applied(rt: Runtime) -> None:
    january(rt.app, {"West": 2})
    rt.sync(None)
    head = rt.app.recorder.max_notification_id()
    # An empty read model in a database of its own.
    view = SQLiteFactory({"SQLITE_DBNAME": ":memory:"}).tracking_recorder(SQLiteChannelView)
    fresh = ChannelProjection(view)
    assert catch_up(rt.app, fresh, batch_size=7, stop=20) == 20
    assert catch_up(rt.app, fresh, batch_size=7) == head - 20  # type: ignore[operator]
    assert catch_up(rt.app, fresh) == 0


def test_o6_a_close_stops_sealing_once_another_close_got_in_and_is_refused(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard of the close: each of its saves is refused once the calendar has moved."""
    app = rt.app
    january(app, {"West": 2})
    monkeypatch.setattr(integrity, "SEAL_PART", 3)
    app.save_max_events = 1
    saves = 0
    original = app._save

    def meanwhile(*aggregates: Any, **kwargs: Any) -> int | None:
        nonlocal saves
        saves += 1
        if saves == 2:  # another process closes January between two of the seal's saves
            other = app.get_calendar()
            other.close(Month(2026, 1), JANUARY_CLOSED_ON, 1, "another")
            original(other)
        return original(*aggregates, **kwargs)

    monkeypatch.setattr(app, "_save", meanwhile)
    with pytest.raises(RuleViolationError, match="already closed"):
        app.close_period("2026-01", JANUARY_CLOSED_ON)
    assert len(positions_of(app, "LogSeal.Recorded")) == 1  # the second save was refused
    assert [c["chain_hash"] for c in app.get_calendar().closes] == ["another"]
