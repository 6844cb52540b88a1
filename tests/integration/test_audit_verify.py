"""`channel audit verify` on a SQLite file and on PostgreSQL: the stored events table is tampered
with directly (changed, deleted, inserted rows; a forged seal; a rewritten chain) and verify must
name the first event touched — or, where it cannot see a change, say so (O6 closes, audit)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from infra import integrity
from infra.settings import load
from services.application import ChannelLedger
from services.audit.verify import verify
from services.runtime import build_runtime
from tests.builders import app_for_url, fulfil, onboard, publish_prices
from tests.integration.audit_helpers import (
    delete_event,
    insert_event,
    leave_gap,
    position_of,
    remove_filler,
    run_channel,
    seal_part_id,
    short_history,
    stored_row,
    tamper_state,
)


@pytest.fixture
def url(database_url: str) -> str:
    """The store's URL, on SQLite and on PostgreSQL (tests/conftest.py)."""
    return database_url


@pytest.fixture
def app(url: str) -> Iterator[ChannelLedger]:
    ledger = app_for_url(url)
    yield ledger
    ledger.close()


def check(app: ChannelLedger) -> Any:
    return verify(app)


def test_o6_verify_passes_on_an_untouched_log_and_names_the_uncovered_tail(
    app: ChannelLedger, url: str, capsys: Any
) -> None:
    short_history(app)
    result = check(app)
    assert result.ok
    assert [c.month for c in result.closes] == ["2026-01", "2026-02"]
    assert result.closes[0].covers_from == 1
    assert result.closes[1].covers_from == result.closes[0].covers_to + 1
    low, high = result.uncovered
    assert high == app.recorder.max_notification_id() and low == result.covered_to + 1
    code, out, _ = run_channel(capsys, "audit", "verify", "--database", url, "--no-progress")
    assert code == 0
    assert "OK: the log is intact up to position" in out
    assert result.last_hash in out


def test_o6_verify_names_a_changed_delivery_and_exits_1(
    app: ChannelLedger, url: str, capsys: Any
) -> None:
    orders = short_history(app)
    target = position_of(app, "Order.Delivered", orders["east-first"])
    tamper_state(url, target, b'"700.00"', b'"70.00"')
    result = check(app)
    assert not result.ok
    assert result.first.kind == "altered" and result.first.position == target
    assert result.first.month == "2026-01"
    code, out, _ = run_channel(capsys, "audit", "verify", "--database", url, "--no-progress")
    assert code == 1
    assert f"FAILED: position {target} (Order.Delivered of" in out


def test_o6_verify_names_a_deleted_event(app: ChannelLedger, url: str) -> None:
    orders = short_history(app)
    target = position_of(app, "Order.PaymentRecorded", orders["east-feb"])
    delete_event(url, target)
    result = check(app)
    assert result.first.kind == "removed" and result.first.position == target
    assert result.first.month == "2026-02"
    assert result.closes[0].ok  # January's range is untouched


def test_o6_verify_names_an_event_inserted_where_the_sealed_log_had_none(
    app: ChannelLedger, url: str
) -> None:
    """A rolled-back insert leaves an unused position; a forger who fills it is named."""
    publish_prices(app)
    dealer = onboard(app, "active", "A", "east", name="East")
    gap = leave_gap(url, app)
    order = app.find_order(dealer, "first")
    assert order is not None
    fulfil(app, str(order.id), date(2026, 1, 20))
    remove_filler(url, gap)
    app.close_period("2026-01", date(2026, 2, 1))
    assert check(app).ok  # the gap itself is part of what the close sealed
    _, _, topic, state = stored_row(url, position_of(app, "Dealer.Registered"))
    insert_event(url, gap, uuid.uuid4() if "postgres" in url else uuid.uuid4().hex, 1, topic,
                 bytes(state))
    result = check(app)
    assert result.first.kind == "inserted" and result.first.position == gap


def test_o6_verify_names_a_forged_seal_and_still_checks_the_range_by_its_hash(
    app: ChannelLedger, url: str
) -> None:
    short_history(app)
    seal_position = position_of(app, "LogSeal.Recorded", seal_part_id(app, "2026-01"))
    _, _, _, state = stored_row(url, seal_position)
    digests = bytes(state).split(b'"digests":"', 1)[1].split(b'"', 1)[0]
    forged = (b"A" if digests[:1] != b"A" else b"B") + digests[1:]
    tamper_state(url, seal_position, digests, forged)
    result = check(app)
    january = result.closes[0]
    assert [f.kind for f in january.findings] == ["seal"]  # its events still give the hash
    assert result.first.kind == "altered" and result.first.position == seal_position
    assert result.first.month == "2026-02"  # the seal part lies in the next close's range


def test_o6_verify_reports_a_removed_last_close(app: ChannelLedger, url: str) -> None:
    short_history(app)
    delete_event(url, position_of(app, "AccountingCalendar.MonthClosed", nth=1))
    result = check(app)
    assert [c.month for c in result.closes] == ["2026-01"]
    assert any(f.kind == "close" and f.month == "2026-02" for f in result.findings)


def test_o6_verify_does_not_see_a_change_after_the_last_close(app: ChannelLedger, url: str) -> None:
    """What it does not protect: events recorded since the last close are under no hash yet."""
    orders = short_history(app)
    target = position_of(app, "Order.Placed", orders["west-mar"])
    assert target > check(app).covered_to
    tamper_state(url, target, b'"mar"', b'"max"')
    result = check(app)
    assert result.ok
    assert result.uncovered[0] <= target <= result.uncovered[1]


def test_o6_a_rewritten_chain_passes_verify_alone_but_fails_against_a_hash_kept_outside(
    app: ChannelLedger, url: str, capsys: Any
) -> None:
    """Whoever can write the table can recompute the seal and the last close: only a copy of the
    chain hash kept elsewhere (`--expect MONTH:HASH`) reveals the rewrite."""
    orders = short_history(app)
    kept = check(app).last_hash
    target = position_of(app, "Order.Delivered", orders["east-feb"])
    tamper_state(url, target, b'"2100.00"', b'"210.00"')
    # The forger recomputes February's seal and its close's chain hash.
    calendar = app.get_calendar()
    last = calendar.closes[-1]
    new_hash, parts = integrity.seal(
        str(calendar.closes[0]["chain_hash"]),
        integrity.read_range(app.recorder, int(str(last["covers_from"])),
                             int(str(last["covers_to"]))),
    )
    seal_position = position_of(app, "LogSeal.Recorded", seal_part_id(app, "2026-02"))
    _, _, _, state = stored_row(url, seal_position)
    old_digests = bytes(state).split(b'"digests":"', 1)[1].split(b'"', 1)[0]
    tamper_state(url, seal_position, old_digests, parts[0].digests.encode())
    close_position = position_of(app, "AccountingCalendar.MonthClosed", nth=1)
    tamper_state(url, close_position, kept.encode(), new_hash.encode())

    assert check(app).ok
    code, out, _ = run_channel(capsys, "audit", "verify", "--database", url, "--no-progress",
                               "--expect", f"2026-02:{kept}")
    assert code == 1
    assert "the log was rewritten" in out


def test_r5_r7_verify_names_the_rebate_slips_an_altered_delivery_is_behind(
    url: str, capsys: Any
) -> None:
    """Each slip seals the digests of the events behind it (deliveries, returns, agreement, tier):
    an altered delivery is named with the slips whose money rests on it."""
    runtime = build_runtime(load().with_database(url))
    try:
        orders = short_history(runtime.app)
        runtime.refresh()
        slips = runtime.reports.slips()
        target = position_of(runtime.app, "Order.Delivered", orders["east-first"])
        east_id = runtime.app.get_order(orders["east-first"]).dealer_id
    finally:
        runtime.close()
    east = next(s for s in slips if s["period"] == "2026-01" and s["dealer_id"] == east_id)
    ledger = app_for_url(url)
    try:
        slip = ledger.get_slip(east["slip_id"])
        assert slip.evidence_hash and target in [
            p for first, last in slip.evidence_positions for p in range(first, last + 1)]
        assert check(ledger).ok and check(ledger).slips == len(slips)
        tamper_state(url, target, b'"700.00"', b'"70.00"')
        result = check(ledger)
    finally:
        ledger.close()
    named = [f for f in result.findings if f.position == target]
    assert [f.kind for f in named] == ["altered"]
    assert f"the rebate slip of 2026-01 for dealer {east['dealer_id']}" in named[0].message
    assert result.first.position == target
    code, out, _ = run_channel(capsys, "audit", "verify", "--database", url, "--no-progress")
    assert code == 1 and "rebate slips: 4 checked against the events they sealed, 1 finding" in out
