"""Containment on the embedded runtime (SQLite): an event the read model cannot apply stops it at
that event, never past it; the fault is recorded and reported (`/healthz`, reads answering 503,
the log, `channel audit verify`), commands go on and are answered from the write side, and a
restart once the cause is fixed resumes from the tracked position."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from infra.settings import Settings
from projections import faults
from projections.faults import ReadModelStoppedError
from projections.projection import SOURCE, ChannelProjection, catch_up
from services.application import ChannelLedger
from services.http.app import shutdown
from services.runtime import Runtime, build_runtime
from tests.builders import UNIT_POLICY, app_for_url, onboard, publish_prices
from tests.integration.audit_helpers import run_channel
from tests.integration.http_fixtures import Http, fulfil, make_http, order_body, place
from tests.integration.http_fixtures import onboard as onboard_over_http
from tests.integration.http_fixtures import publish_prices as publish_prices_over_http
from tests.support.faults import failing_handler, store_unreadable_event
from tests.unit.test_projection import D, World, fresh_view, read

DELIVERY_FAILS = "cannot read this delivery"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def start(url: str) -> Runtime:
    """A runtime starting on the file (as a process does)."""
    return build_runtime(Settings().with_database(url), initial_policy=UNIT_POLICY,
                         clock=lambda: date(2026, 12, 31))


def positions(app: ChannelLedger, suffix: str) -> list[int]:
    return [n.id for n in app.recorder.select_notifications(start=1, limit=100_000)
            if n.topic.endswith(suffix)]


def test_an_event_the_read_model_cannot_apply_stops_it_there_and_a_restart_with_the_cause_fixed_resumes(
    url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rt = start(url)
    world = World(rt)
    world.setup()
    world.sell("Alpha", 310_000, D("2026-04-10"))
    failing_handler(monkeypatch, "Order.Delivered", DELIVERY_FAILS)
    with caplog.at_level("WARNING", logger="channel.read_model"):
        world.sell("Beta", 120_000, D("2026-04-11"))  # every sync after a command: none raises
    culprit = positions(rt.app, ":Order.Delivered")[-1]
    # Commands are still taken and stored, a close among them.
    world.sell("Gamma", 50_000, D("2026-04-12"))
    world.do(rt.app.close_period("2026-04", D("2026-05-01")))
    head = rt.app.recorder.max_notification_id()

    state = rt.read_state()
    assert state.fault is not None
    assert (state.fault.position, state.fault.event_type) == (culprit, "Order.Delivered")
    assert state.fault.reason == f"ValueError: {DELIVERY_FAILS}"
    assert (state.position, state.head) == (culprit - 1, head)
    assert f"read model: stopped at log position {culprit} (Order.Delivered)" in caplog.text
    # The close's follow-ups read the read model: none ran on the stopped one.
    assert positions(rt.app, ":RebateSlip.Issued") == []
    with pytest.raises(ReadModelStoppedError, match=f"log position {culprit}"):
        rt.refresh()  # a report from the command line refuses a read model with a hole
    rt.close()

    again = start(url)  # a restart with the cause still there records the fault again
    try:
        fault = again.read_fault()
        assert fault is not None and fault.position == culprit and again.position == culprit - 1
    finally:
        again.close()

    monkeypatch.undo()  # the cause fixed
    resumed = start(url)
    try:
        assert resumed.read_fault() is None
        assert faults.recorded(resumed.view, SOURCE) is None
        assert resumed.position == resumed.app.recorder.max_notification_id()
        assert len(resumed.reports.slips(period="2026-04")) == 3  # the close's follow-up, now
        (beta,) = [e for e in resumed.reports.rebates("2026-04") if e["dealer_id"] == world.ids["Beta"]]
        assert (beta["status"], beta["basis"]) == ("posted", Decimal("120000.00"))
        rebuilt = ChannelProjection(fresh_view())
        catch_up(resumed.app, rebuilt)
        assert read(resumed.view) == read(rebuilt.view)  # each event applied once, none skipped
    finally:
        resumed.close()


def test_a_stored_event_the_mapper_cannot_read_stops_the_read_model_at_its_position(url: str) -> None:
    app = app_for_url(url)
    try:
        publish_prices(app)
        onboard(app, "signed", name="Before")
        bad = store_unreadable_event(app)
        onboard(app, "signed", name="After")
    finally:
        app.close()
    rt = start(url)  # its first catch-up meets the event inside one batch
    try:
        fault = rt.read_fault()
        assert fault is not None and (fault.position, fault.event_type) == (bad, "Dealer.Vanished")
        assert rt.position == bad - 1  # the events before it are applied, none after it
        assert [d["name"] for d in rt.reports.dealers()] == ["Before"]
    finally:
        rt.close()


def test_a_close_follow_up_that_fails_leaves_the_close_stored_and_is_tried_again_at_the_next_sync(
    url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    rt = start(url)
    try:
        world = World(rt)
        world.setup()
        world.sell("Alpha", 310_000, D("2026-04-10"))

        def refuse(*args: Any) -> None:
            raise RuntimeError("the slips could not be issued")

        monkeypatch.setattr(rt.managers, "follow_up", refuse)
        world.do(rt.app.close_period("2026-04", D("2026-05-01")))  # no error: the close is stored
        assert str(rt.app.get_calendar().last_closed) == "2026-04"
        assert positions(rt.app, ":RebateSlip.Issued") == []
        assert rt.read_fault() is None  # a command that failed is not the read model's fault
        monkeypatch.undo()
        world.sell("Beta", 1_000, D("2026-05-02"))  # the next sync runs the pending follow-up
        assert len(rt.reports.slips(period="2026-04")) == 3
    finally:
        rt.close()


# --- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Http, dict[str, Any]]]:
    """A server whose read model stopped at a delivery, with a slip issued before it."""
    http = make_http(tmp_path)
    publish_prices_over_http(http)
    dealer = onboard_over_http(http, "signed")
    fulfil(http, place(http, dealer, "o-1"), "2026-01-12")
    http.ok("POST", "/periods/2026-01/close", role="finance", json={"closed_on": "2026-02-01"})
    (slip,) = http.ok("GET", "/rebate-slips", role="finance", query={"period": "2026-01"})["slips"]
    failing_handler(monkeypatch, "Order.Delivered", DELIVERY_FAILS)
    second = place(http, dealer, "o-2", on="2026-02-03")
    delivered = fulfil(http, second, "2026-02-05")  # stored: answered 200, not 500
    assert delivered["delivered_on"] == "2026-02-05"
    culprit = positions(http.ledger, ":Order.Delivered")[-1]
    yield http, {"dealer": dealer, "slip": slip["slip_id"], "culprit": culprit,
                 "total": second["total"]}
    shutdown(http.flask)


def test_healthz_is_503_degraded_naming_the_position_and_the_reason(
    stopped: tuple[Http, dict[str, Any]],
) -> None:
    http, known = stopped
    response = http.call("GET", "/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "read_model": {
            "position": known["culprit"] - 1, "head": http.position(),
            "lag": http.position() - known["culprit"] + 1, "stopped_at": known["culprit"],
            "event_type": "Order.Delivered", "reason": f"ValueError: {DELIVERY_FAILS}",
            "since": response.get_json()["read_model"]["since"],
        },
    }


def test_reads_of_the_stopped_read_model_answer_503_naming_the_position(
    stopped: tuple[Http, dict[str, Any]],
) -> None:
    http, known = stopped
    culprit = known["culprit"]
    reads = [("/reports/rebates", {"period": "2026-02"}, "finance"),
             ("/reports/dealers", {"period": "2026-02"}, "manager"),
             ("/dealers", None, "sales"), ("/orders", None, "sales"),
             ("/rebate-slips", None, "finance"), (f"/rebate-slips/{known['slip']}", None, "finance")]
    for path, query, role in reads:
        response = http.call("GET", path, role=role, query=query)
        body = response.get_json()
        assert response.status_code == 503, (path, body)
        assert (body["code"], body["status"]) == (503, "Service Unavailable")
        assert f"log position {culprit} (Order.Delivered)" in body["message"]
        assert body["read_model"]["stopped_at"] == culprit
        assert body["read_model"]["position"] == culprit - 1
        assert body["request_id"] == response.headers["X-Request-Id"]
    # What the write side answers by itself is not the read model's.
    assert http.ok("GET", f"/dealers/{known['dealer']}", role="sales")["status"] == "active"


def test_commands_are_still_taken_answered_from_the_write_side_and_a_retry_duplicates_nothing(
    stopped: tuple[Http, dict[str, Any]],
) -> None:
    http, known = stopped
    before = http.position()
    created = http.ok("POST", "/dealers", 201, role="sales", json={
        "name": "New", "region": "east", "tier": "AA", "salesperson": "alice",
        "contact": "new@example.com", "registered_on": "2026-02-06"})
    assert created["status"] == "registered" and http.position() == before + 1
    body = order_body(known["dealer"], "o-3", on="2026-02-06")
    placed = http.ok("POST", "/orders", 201, role="sales", json=body)
    again = http.ok("POST", "/orders", 200, role="sales", json=body)  # a client's retry
    assert again["id"] == placed["id"]
    events = http.ledger.recorder.select_events(UUID(placed["id"]))
    assert [e.topic.rsplit(".", 1)[-1] for e in events] == ["Placed", "Confirmed"]
    key = http.dealer_key(known["dealer"])
    confirmed = http.ok("POST", f"/rebate-slips/{known['slip']}/confirmation", key=key,
                        json={"confirmed_on": "2026-02-07"})
    assert (confirmed["slip_id"], confirmed["status"]) == (known["slip"], "confirmed")
    assert {line["status"] for line in confirmed["lines"]} <= {"confirmed"}


def test_the_server_log_says_the_read_model_stopped_and_a_restart_with_the_cause_fixed_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO"):
        http = make_http(tmp_path)
        publish_prices_over_http(http)
        dealer = onboard_over_http(http, "signed")
        failing_handler(monkeypatch, "Order.Delivered", DELIVERY_FAILS)
        order = place(http, dealer, "o-1", on="2026-02-03")
        fulfil(http, order, "2026-02-05")
        culprit = positions(http.ledger, ":Order.Delivered")[-1]
        assert http.call("GET", "/reports/rebates", role="finance",
                         query={"period": "2026-02"}).status_code == 503
        shutdown(http.flask)
    stops = [r for r in caplog.records if r.name == "channel.read_model" and r.levelname == "ERROR"]
    assert [f"stopped at log position {culprit} (Order.Delivered)" in r.getMessage()
            for r in stops] == [True]

    monkeypatch.undo()
    restarted = make_http(tmp_path)
    try:
        health = restarted.ok("GET", "/healthz")
        assert health["status"] == "ok" and health["read_model"]["lag"] == 0
        (entry,) = restarted.ok("GET", "/reports/rebates", role="finance",
                                query={"period": "2026-02"})["entries"]
        assert entry["basis"] == order["total"]
    finally:
        shutdown(restarted.flask)


# --- the command line -------------------------------------------------------------------------------


def test_audit_verify_prints_the_read_models_state_and_exits_1_while_it_is_stopped(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any,
) -> None:
    rt = start(url)
    world = World(rt)
    try:
        world.setup()
        head = rt.app.recorder.max_notification_id()
        code, out, _ = run_channel(capsys, "audit", "verify", "--database", url, "--no-progress")
        assert code == 0, out
        assert f"read model: at log position {head} of {head} (lag 0)" in out
        failing_handler(monkeypatch, "Order.Delivered", DELIVERY_FAILS)
        world.sell("Alpha", 1_000, D("2026-04-10"))
        culprit = positions(rt.app, ":Order.Delivered")[-1]
    finally:
        rt.close()
    code, out, _ = run_channel(capsys, "audit", "verify", "--database", url, "--no-progress")
    assert code == 1, out
    assert f"read model: STOPPED at log position {culprit} (Order.Delivered): ValueError" in out
    code, out, _ = run_channel(capsys, "audit", "verify", "--database", url, "--no-progress",
                               "--format", "json")
    found = json.loads(out)
    assert code == 1 and found["ok"] is True  # the log itself is intact
    assert found["read_model"]["stopped"] is True and found["read_model"]["stopped_at"] == culprit
    # A report from the command line refuses, in one line, rather than print figures with a hole.
    code, _, err = run_channel(capsys, "report", "rebates", "--period", "2026-04", "--database", url)
    assert code == 1
    assert err.strip().splitlines() == [err.strip()] and f"log position {culprit}" in err
