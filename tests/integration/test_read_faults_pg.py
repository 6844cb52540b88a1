"""Containment on PostgreSQL: the leader's ProjectionRunner meets an event it cannot apply, records
the fault and follows the log no further (it keeps the lead, so no one retries it over and
over); a runtime that does not lead sees the fault in the table and reports it on `/healthz`;
a new leader, once the cause is fixed, resumes from the tracked position."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from infra.settings import Settings
from projections import faults
from projections.projection import SOURCE, ChannelProjection, catch_up
from services.http.app import create_app
from services.http.context import Channel
from services.runtime import PostgresRuntime, build_runtime
from tests.builders import UNIT_POLICY
from tests.integration.test_projections_pg import until
from tests.support.faults import failing_handler, store_unreadable_event
from tests.unit.test_projection import D, World, fresh_view, read


def runtime(url: str, *, lead: bool) -> PostgresRuntime:
    settings = replace(Settings().with_database(url), CHANNEL_READ_WAIT=20.0)
    rt = build_runtime(settings, initial_policy=UNIT_POLICY, clock=lambda: date(2026, 7, 31), lead=lead)
    assert isinstance(rt, PostgresRuntime)
    return rt


@pytest.fixture
def leader(pg_url: str) -> Iterator[PostgresRuntime]:
    rt = runtime(pg_url, lead=True)
    until(rt.is_leader.is_set, "the leader")
    yield rt
    rt.close()


@pytest.fixture
def follower(pg_url: str) -> Iterator[PostgresRuntime]:
    rt = runtime(pg_url, lead=False)
    yield rt
    rt.close()


def test_the_leader_records_the_fault_a_follower_reports_it_and_a_new_leader_resumes_once_fixed(
    pg_url: str, leader: PostgresRuntime, follower: PostgresRuntime,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(follower)  # commands through the runtime that does not lead
    world.setup()
    world.sell("Alpha", 310_000, D("2026-04-10"))
    failing_handler(monkeypatch, "Order.Delivered", "cannot read this delivery")
    with caplog.at_level("WARNING", logger="channel.read_model"):
        world.sell("Beta", 120_000, D("2026-04-11"))  # the leader's runner meets it
        culprit = max(n.id for n in follower.app.recorder.select_notifications(start=1, limit=10_000)
                      if n.topic.endswith(":Order.Delivered"))
        until(lambda: follower.read_fault() is not None, "the fault recorded by the leader")
        fault = follower.read_fault()
        assert fault is not None and (fault.position, fault.event_type) == (culprit, "Order.Delivered")
        assert follower.position == culprit - 1

        # The write side goes on; a close's follow-ups do not run on the stopped read model.
        world.sell("Gamma", 50_000, D("2026-04-12"))
        world.do(follower.app.close_period("2026-04", D("2026-05-01")))
        head = follower.app.recorder.max_notification_id() or 0
        assert not any(n.topic.endswith(":RebateSlip.Issued")
                       for n in follower.app.recorder.select_notifications(start=1, limit=10_000))

        # The follower's own /healthz says so.
        flask = create_app(follower, settings=replace(Settings().with_database(pg_url),
                                                      CHANNEL_API_KEYS=""))
        try:
            response = flask.test_client().get("/healthz")
            assert response.status_code == 503
            health = response.get_json()
            assert health["status"] == "degraded"
            assert health["read_model"]["stopped_at"] == culprit
            assert health["read_model"]["position"] == culprit - 1
            assert health["read_model"]["head"] == head
        finally:
            state: Channel = flask.extensions["channel"]
            state.keys.close()
        assert leader.is_leader.is_set()  # it keeps the lead, following nothing
        leader.close()
    # From the fault to the leader's stop, one error line: it did not try the event again.
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.name == "channel.read_model"]
    assert len(errors) == 1 and f"stopped at log position {culprit}" in errors[0].getMessage()
    assert faults.recorded(follower.view, SOURCE) == fault

    monkeypatch.undo()  # the cause fixed; the next leader starts
    resumed = runtime(pg_url, lead=True)
    try:
        until(lambda: resumed.position >= head and len(resumed.reports.slips(period="2026-04")) == 3,
              "the new leader resumes and runs the close's follow-ups")
        until(lambda: faults.recorded(resumed.view, SOURCE) is None, "the fault cleared")
        assert follower.read_fault() is None
        rebuilt = ChannelProjection(fresh_view())
        catch_up(resumed.app, rebuilt)
        resumed.sync(resumed.app.recorder.max_notification_id())
        assert read(resumed.view) == read(rebuilt.view)
    finally:
        resumed.close()


def test_an_event_the_runner_cannot_even_decode_stops_the_read_model_at_its_position(
    leader: PostgresRuntime, follower: PostgresRuntime,
) -> None:
    world = World(follower)
    world.setup()
    bad = store_unreadable_event(follower.app)  # met by the runner, which follows the log
    world.sell("Alpha", 1_000, D("2026-04-10"))
    until(lambda: follower.read_fault() is not None, "the fault recorded by the leader")
    fault = follower.read_fault()
    assert fault is not None and (fault.position, fault.event_type) == (bad, "Dealer.Vanished")
    assert follower.position == bad - 1
