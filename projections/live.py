"""The live feed of the read model: the library's `ProjectionRunner`, applying what its subscription
holds ready several events per transaction (one tracking record each), not one by one
(notes: pitfall 10). The batch is what the subscription has already read from the log, so the
feed waits for nothing it would not have waited for, and memory is bounded by `BATCH` (the
catch-up's batch). While a batch is gathered and applied the cyclic collector is paused, as in a
catch-up."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from eventsourcing.projection import ProjectionRunner

from infra.heap import COLLECT_FROM, collector_paused, freeze_long_lived
from projections.projection import BATCH, ChannelProjection, LogReader
from projections.views import ChannelView, PostgresChannelView


def _ready(subscription: Any) -> int:
    """How many of the subscription's next events are already read from the log (taking them
    will not block): the rest of the list the library's `ListenNotifySubscription` is handing
    out, else one if a next list is queued. Without them (another recorder), none: one by one."""
    inner = getattr(subscription, "subscription", None)
    notifications = getattr(inner, "_notifications", None)
    index = getattr(inner, "_notifications_index", None)
    queue = getattr(inner, "_notifications_queue", None)
    if notifications is None or index is None or queue is None:
        return 0
    left = len(notifications) - index
    return left if left > 0 else 1 if queue.qsize() > 0 else 0


def gather(first: Any, events: Iterator[Any], subscription: Any,
           limit: int = BATCH) -> list[Any]:
    """The batch that starts with `first`: it and the events of `events` (the subscription's)
    already read from the log, up to `limit`; it waits for no event beyond its first (the events
    ready are counted once per list the subscription holds, not once per event)."""
    batch = [first]
    while len(batch) < limit and (ready := _ready(subscription)):
        try:
            for _ in range(min(ready, limit - len(batch))):
                batch.append(next(events))
        except StopIteration:
            break
    return batch


class BatchingProjectionRunner(ProjectionRunner[LogReader, ChannelView]):
    """`ProjectionRunner` for `ChannelProjection`, whose event-processing thread hands the view
    batches (`ChannelProjection.process_events`: one transaction, the culprit named on a failure,
    the events before it applied) instead of one event at a time."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(
            application_class=LogReader,
            projection_class=ChannelProjection,
            view_class=PostgresChannelView,
            env=env,
        )

    @staticmethod
    def _process_events_loop(
        subscription: Any,
        projection: Any,
        is_stopping: Any,
        runner: weakref.ReferenceType[Any],
    ) -> None:
        # As the library's loop (errors handed to the runner, which re-raises them from
        # run_forever and wait), with process_events for several events at once.
        try:
            freeze_long_lived()
            events = iter(subscription)
            for first in events:
                # As in a catch-up: the cyclic collector paused while a batch is gathered and
                # applied (it would walk the batch's events again and again), its young
                # generations collected once a long batch is let go (infra/heap.py).
                with collector_paused() as between_batches:
                    batch = gather(first, events, subscription)
                    long = len(batch) >= COLLECT_FROM
                    projection.process_events(batch)
                    del batch
                    if long:
                        between_batches()
        except BaseException as error:
            found = runner()
            if found is not None:
                found._thread_error = error
        finally:
            is_stopping.set()
