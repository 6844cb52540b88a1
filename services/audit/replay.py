"""Rebuild the read model from the log into a scratch view with the very projection code the live
side runs (`ChannelProjection.process_events`, tracked with the library's `Tracking`), streaming
the stored events in batches: memory stays bounded whatever the length of the log."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from projections.projection import SOURCE, ChannelProjection
from projections.views import ChannelView
from services.audit.progress import Progress
from services.audit.timeline import batches


def replay(
    app: Application[Any],
    view: ChannelView,
    until: int,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> int:
    """Apply the log from the view's tracked position up to `until`, one transaction per batch;
    returns the number of events applied. Resumable: a second call continues where it stopped."""
    projection = ChannelProjection(view=view)
    start = (view.max_tracking_id(SOURCE) or 0) + 1
    applied = 0
    for batch in batches(app.recorder, start, until, batch_size):
        projection.process_events(
            [(app.mapper.to_domain_event(n), Tracking(SOURCE, n.id)) for n in batch]
        )
        applied += len(batch)
        if progress is not None:
            progress.advance(len(batch))
    settle_followups(view)
    return applied


def settle_followups(view: ChannelView) -> None:
    """Mark each close's follow-up done where the log holds what it wrote (its slips, its
    allocations): the queries then treat the month as the live side does, posted not accrued.
    The live side keeps this bookkeeping as it goes; a replay reads it off the log."""
    with view.writing() as db:
        for row in db.all("SELECT month, close_position FROM @followups WHERE done_position IS NULL"):
            done = db.scalar(
                "SELECT MAX(p) FROM (SELECT position AS p FROM @slips WHERE close_position = ? "
                "UNION ALL SELECT position AS p FROM @allocations WHERE month = ?) AS written",
                (row["close_position"], row["month"]),
            )
            if done is not None:
                db.execute("UPDATE @followups SET done_position = ? WHERE month = ?",
                           (int(done), row["month"]))
