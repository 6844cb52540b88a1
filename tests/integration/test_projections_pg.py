"""The read side on PostgreSQL: one leader at a time runs the ProjectionRunner and the close's
process manager, other processes (or runtimes) only wait on the tracked position; a leader that
stops is replaced; `channel project` leads from another process; the view is the same as one
rebuilt from scratch, also after a restart and with two feeders at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from infra.persistence import parse_database_url
from infra.settings import Settings
from projections.model import dump
from projections.projection import SOURCE, ChannelProjection, catch_up
from projections.views import ChannelView
from services.runtime import PostgresRuntime, Runtime, build_runtime, postgres_view
from tests.builders import UNIT_POLICY, app_for_url
from tests.unit.test_projection import World, fresh_view, read

ROOT = Path(__file__).resolve().parent.parent.parent
D = date.fromisoformat


def runtime(url: str, *, lead: bool, wait: float = 20.0) -> PostgresRuntime:
    settings = replace(Settings().with_database(url), CHANNEL_READ_WAIT=wait)
    rt = build_runtime(settings, initial_policy=UNIT_POLICY, clock=lambda: date(2026, 7, 31), lead=lead)
    assert isinstance(rt, PostgresRuntime)
    return rt


def until(condition: Any, what: str, bound: float = 30.0) -> None:
    """Poll a condition (bounded: a hung test fails instead of hanging)."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def leader(pg_url: str) -> Iterator[PostgresRuntime]:
    rt = runtime(pg_url, lead=True)
    until(rt.is_leader.is_set, "the leader")
    yield rt
    rt.close()


def april(world: World) -> None:
    world.setup()
    world.sell("Alpha", 310_000, D("2026-04-10"))
    world.sell("Beta", 120_000, D("2026-04-11"))
    world.give_back("Alpha", 1_000, D("2026-04-12"))
    world.do(world.rt.app.close_period("2026-04", D("2026-05-01")))


def test_a_runtime_that_does_not_lead_reads_its_own_commands_after_sync(
    pg_url: str, leader: PostgresRuntime
) -> None:
    follower = runtime(pg_url, lead=False)
    try:
        world = World(follower)
        april(world)  # every command is followed by follower.sync(position)
        assert not follower.is_leader.is_set()
        (alpha,) = [r for r in follower.reports.rebates("2026-04") if r["dealer_id"] == world.ids["Alpha"]]
        assert (alpha["status"], alpha["basis"], alpha["amount"]) == (
            "posted",
            Decimal("309000.00"),
            Decimal("6180.00"),
        )
        assert len(follower.reports.slips(period="2026-04")) == 3
        assert {b["pool"] for b in follower.reports.spare_budgets("2026-04")} == {
            world.ids["Alpha"],
            "national",
        }
        assert follower.position == follower.app.recorder.max_notification_id()
    finally:
        follower.close()


def test_a_sync_after_another_process_closed_a_month_waits_for_the_close_follow_ups(
    pg_url: str, leader: PostgresRuntime
) -> None:
    """A process that knew every close done skips the follow-ups' look (services/runtimes/
    postgres.py); a close written meanwhile elsewhere, not waited for there, is seen by its next
    save, and its sync waits for the slips that close sets off."""
    closer, writer = runtime(pg_url, lead=False), runtime(pg_url, lead=False)
    try:
        world = World(writer)
        world.setup()
        world.sell("Alpha", 310_000, D("2026-04-10"))
        world.sell("Beta", 120_000, D("2026-04-11"))
        assert writer.reports.slips(period="2026-04") == []
        closer.app.close_period("2026-04", D("2026-05-01"))  # no sync: nobody waits there
        world.do(writer.app.register_dealer("Late", "east", "A", "wang", "l@example.cn",
                                            registered_on=D("2026-05-02")))
        assert len(writer.reports.slips(period="2026-04")) == 3
    finally:
        closer.close()
        writer.close()


def test_one_runtime_leads_at_a_time_and_another_takes_over_when_it_stops(pg_url: str) -> None:
    first, second = runtime(pg_url, lead=True), runtime(pg_url, lead=True)
    try:
        until(lambda: first.is_leader.is_set() or second.is_leader.is_set(), "a leader")
        time.sleep(0.2)
        assert first.is_leader.is_set() != second.is_leader.is_set()
        old, new = (first, second) if first.is_leader.is_set() else (second, first)
        old.close()
        until(new.is_leader.is_set, "the takeover")
        world = World(new)
        april(world)
        assert len(new.reports.slips(period="2026-04")) == 3
    finally:
        first.close()
        second.close()


def test_channel_project_follows_the_log_from_another_process(pg_url: str) -> None:
    env = {**os.environ, "CHANNEL_DATABASE_URL": pg_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "project"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        reader = runtime(pg_url, lead=False, wait=60.0)
        try:
            world = World(reader)
            april(world)
            assert [r["status"] for r in reader.reports.rebates("2026-04")] == ["posted"] * 3
            assert reader.position == reader.app.recorder.max_notification_id()
        finally:
            reader.close()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "following the log" in out


def test_a_restarted_leader_resumes_from_its_position_and_equals_a_rebuild(pg_url: str) -> None:
    first = runtime(pg_url, lead=True)
    world = World(first)
    try:
        april(world)
    finally:
        first.close()
    # Written while no one leads: the next leader catches the backlog up in batches.
    app = app_for_url(pg_url)
    try:
        for day in (3, 4, 5):
            order = app.place_order(
                world.ids["Gamma"],
                f"late-{day}",
                date(2026, 5, day),
                "west",
                "prepaid",
                [{"sku": "UNIT", "qty": 1000 * day, "unit_price": "1.00"}],
            )
            app.record_payment(str(order.value.id), date(2026, 5, day), order.value.total)
        head = app.recorder.max_notification_id()
    finally:
        app.close()
    second = runtime(pg_url, lead=True)
    try:
        second.sync(head)
        assert second.position == head
        rebuilt = ChannelProjection(fresh_view())  # in SQLite: the same rows on either database
        catch_up(second.app, rebuilt)
        assert read(second.view) == read(rebuilt.view)
    finally:
        second.close()


def test_two_feeders_at_once_apply_each_event_exactly_once(pg_url: str) -> None:
    rt = runtime(pg_url, lead=False)
    world = World(rt)
    try:
        app = rt.app
        rt.sync = lambda position: None  # type: ignore[method-assign]  # no leader: only write
        april(world)
        env = parse_database_url(pg_url).eventsourcing_env()
        views: list[ChannelView] = [postgres_view(env), postgres_view(env)]
        errors: list[BaseException] = []

        def feed(view: ChannelView) -> None:
            try:
                catch_up(app, ChannelProjection(view), batch_size=7)
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=feed, args=(v,)) for v in views]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert views[0].max_tracking_id(SOURCE) == app.recorder.max_notification_id()
        rebuilt = ChannelProjection(fresh_view())
        catch_up(app, rebuilt)
        with views[0].reading() as db:
            assert dump(db) == read(rebuilt.view)
        for v in views:
            v.datastore.close()  # type: ignore[attr-defined]
    finally:
        rt.close()


def test_runtime_type_is_embedded_on_sqlite(tmp_path: Path) -> None:
    rt: Runtime = build_runtime(
        Settings().with_database(f"sqlite:///{tmp_path}/x.db"), initial_policy=UNIT_POLICY
    )
    try:
        assert not isinstance(rt, PostgresRuntime)
        rt.sync(None)
    finally:
        rt.close()
