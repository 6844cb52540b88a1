"""The live feed and the waits on PostgreSQL: the runner applying several events per transaction
gives the same read model as one event at a time; a command's wait for the read side is woken by
the view's notification of its tracked position."""

from __future__ import annotations

import threading
from datetime import date

from infra.persistence import parse_database_url
from projections.live import BatchingProjectionRunner
from projections.projection import SOURCE, ChannelProjection, catch_up
from services.runtime import PostgresRuntime
from tests.integration.test_projections_pg import april, runtime, until
from tests.unit.test_projection import World, fresh_view, read


def written(pg_url: str) -> PostgresRuntime:
    """A runtime that does not lead, with April's trading and close written and nothing projected."""
    rt = runtime(pg_url, lead=False)
    rt.sync = lambda position: None  # type: ignore[method-assign]  # no leader: only write
    april(World(rt))
    return rt


def test_the_live_feed_in_batches_equals_one_event_at_a_time(pg_url: str) -> None:
    rt = written(pg_url)
    try:
        head = rt.app.recorder.max_notification_id()
        sizes: list[int] = []
        with BatchingProjectionRunner(env=parse_database_url(pg_url).eventsourcing_env()) as runner:
            runner.view.listeners.append(lambda records: sizes.append(len(records)))
            runner.wait(head, timeout=60)
            live = read(runner.view)
        assert sum(sizes) == head and max(sizes) > 1  # the backlog went in batches
        one_by_one = ChannelProjection(fresh_view())
        catch_up(rt.app, one_by_one, batch_size=1)
        assert live == read(one_by_one.view)
    finally:
        rt.close()


def test_a_wait_for_the_read_side_is_woken_by_the_views_notification(pg_url: str) -> None:
    rt = runtime(pg_url, lead=False)
    try:
        # Written without waiting: no process leads the projections.
        rt.app.publish_price_list(date(2026, 3, 1), [
            {"sku": "UNIT", "name": "unit", "list_price": "1.00", "floor_price": "0.50"}])
        position = rt.app.recorder.max_notification_id()
        assert position is not None
        until(rt._listening.is_set, "the runtime listening")
        done = threading.Event()
        waiter = threading.Thread(target=lambda: (rt.sync(position), done.set()))
        waiter.start()
        assert not done.is_set()  # nothing has applied the position: sync cannot have returned
        view = rt.pg_view
        catch_up(rt.app, ChannelProjection(view))  # another feeder applies it, and notifies
        waiter.join(timeout=30)
        assert done.is_set()
        assert rt._heard >= position  # what the view announced, heard by the runtime's listener
        assert view.max_tracking_id(SOURCE) >= position
    finally:
        rt.close()
