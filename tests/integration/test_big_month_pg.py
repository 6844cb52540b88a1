"""A busy month on PostgreSQL (O6, R5, audit): a month of more than 250,000 events closes, every
save of the close bounded in events and bytes (a save of several MB never returns there), and
`audit verify` names an event altered inside it; a dealer with more events than a slip carries
inline gets its evidence in parts, and verify names its slip. The first test takes about 35 s
on a 2-core machine, most of it writing the month."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.order import Order, price_lines
from domain.rebate_slip import RebateSlip
from infra import integrity
from infra.settings import load
from services.application import ChannelLedger
from services.audit.verify import verify
from services.runtime import build_runtime
from tests.builders import POLICY, app_for_url, onboard, publish_prices
from tests.integration.audit_helpers import tamper_state

MONTH_EVENTS = 250_000
ORDERS_PER_SAVE = 200  # about 1,000 small events a save, as an import would write them


@pytest.fixture
def app(pg_url: str) -> Iterator[ChannelLedger]:
    ledger = app_for_url(pg_url)
    yield ledger
    ledger.close()


def busy_january(app: ChannelLedger, events: int, dealers: list[str]) -> list[int]:
    """Prepaid orders of the dealers in turn, placed at tier price, paid, shipped and delivered in
    January (one in ten partly returned), saved many orders at a time, until the log holds
    `events` events. Returns the log positions of the deliveries."""
    version = app.price_list_on(date(2026, 1, 10))
    assert version is not None
    tiers = {d: app.get_dealer(d).tier for d in dealers}
    regions = {d: app.get_dealer(d).region for d in dealers}
    deliveries: list[int] = []
    written = app.recorder.max_notification_id() or 0
    pending: list[Order] = []
    n = 0
    while written < events:
        dealer_id = dealers[n % len(dealers)]
        on = date(2026, 1, 10) + timedelta(days=n % 20)
        lines, _ = price_lines([{"sku": "ROUTER", "qty": 1 + n % 5}], version, tiers[dealer_id],
                               POLICY.versions[0].orders)
        order = Order(dealer_id=dealer_id, client_ref=f"bulk-{n}", order_date=on,
                      ship_to_region=regions[dealer_id], payment="prepaid",
                      tier=tiers[dealer_id].value, lines=lines,
                      total=sum((x.amount for x in lines), Decimal("0.00")),
                      price_list_version=version.number, approvals=[])
        order.confirm(on)
        order.pay(on, order.total)
        order.ship(on)
        order.deliver(on)
        if n % 10 == 0:
            order.return_lines(on, [{"sku": "ROUTER", "qty": 1}], POLICY.versions[0].orders.max_lines)
        pending.append(order)
        written += len(order.pending_events)
        n += 1
        if len(pending) == ORDERS_PER_SAVE or written >= events:
            for recording in app.save(*pending):
                if recording.domain_event.__class__.__qualname__ == "Order.Delivered":
                    deliveries.append(recording.notification.id)
            pending = []
    return deliveries


def record_saves(app: ChannelLedger, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(events, bytes of stored state) of every insert into the store from now on."""
    saves: list[tuple[int, int]] = []
    insert = app.recorder.insert_events

    def recording(stored_events: Any, **kwargs: Any) -> Any:
        saves.append((len(stored_events), sum(len(e.state) for e in stored_events)))
        return insert(stored_events, **kwargs)

    monkeypatch.setattr(app.recorder, "insert_events", recording)
    return saves


def test_o6_a_month_of_250000_events_closes_in_bounded_saves_and_verify_names_an_altered_one(
    app: ChannelLedger, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_prices(app)
    dealers = [onboard(app, "signed", ("A", "AA", "SI")[i % 3], ("east", "west", "north")[i % 3],
                       name=f"busy-{i}") for i in range(12)]
    deliveries = busy_january(app, MONTH_EVENTS + 500, dealers)
    saves = record_saves(app, monkeypatch)

    done = app.close_period("2026-01", date(2026, 2, 1))

    close = app.get_calendar().closes[0]
    covered = int(str(close["covers_to"]))
    assert covered > MONTH_EVENTS
    assert done.position == app.recorder.max_notification_id()
    assert sum(n for n, _ in saves) == -(-covered // integrity.SEAL_PART) + 2  # + Opened, MonthClosed
    assert len(saves) > 5  # several saves, each of them bounded
    assert all(n <= app.save_max_events and size <= app.save_max_bytes for n, size in saves)
    result = verify(app)
    assert result.ok and result.closes[0].events == covered

    target = deliveries[len(deliveries) // 2]
    order = app.get_order(str(app.recorder.select_notifications(
        start=target, limit=1)[0].originator_id))
    value = f'"{order.total}"'.encode()
    tamper_state(pg_url, target, value, value.replace(b'"', b'"9', 1))
    result = verify(app)
    assert result.first is not None
    assert (result.first.kind, result.first.position, result.first.month) == (
        "altered", target, "2026-01")
    assert [f.position for c in result.closes for f in c.findings] == [target]


def test_r5_a_dealer_with_more_events_than_a_slip_carries_gets_its_evidence_in_parts(
    pg_url: str,
) -> None:
    """With the shipped bounds: a dealer with 700 deliveries and returns in the month."""
    app = app_for_url(pg_url)
    try:
        publish_prices(app)
        big = onboard(app, "signed", "AA", "west", name="Big")
        small = onboard(app, "signed", "SI", "north", name="Small")
        deliveries = busy_january(app, (app.recorder.max_notification_id() or 0) + 3_600, [big])
        busy_january(app, (app.recorder.max_notification_id() or 0) + 10, [small])
        app.close_period("2026-01", date(2026, 2, 1))
    finally:
        app.close()
    settings = dataclasses.replace(load().with_database(pg_url), CHANNEL_READ_WAIT=120.0)
    runtime = build_runtime(settings)
    try:
        runtime.refresh()  # the leader projects the month and issues the close's slips
        assert len(runtime.reports.slips(period="2026-01")) == 2
        slip = runtime.app.get_slip(RebateSlip.create_id(big, "2026-01"))
        assert slip.evidence_positions == [] and slip.evidence_hash != integrity.EMPTY_EVIDENCE
        result = verify(runtime.app)
        assert result.ok and result.slips == 2
        target = deliveries[-1]
        order = runtime.app.get_order(str(runtime.app.recorder.select_notifications(
            start=target, limit=1)[0].originator_id))
        value = f'"{order.total}"'.encode()
        tamper_state(pg_url, target, value, value.replace(b'"', b'"9', 1))
        named = [f for f in verify(runtime.app).findings if f.position == target]
    finally:
        runtime.close()
    assert [f.kind for f in named] == ["altered"]
    assert f"the rebate slip of 2026-01 for dealer {big}" in named[0].message
