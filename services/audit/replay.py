"""Rebuild the read model from the log into a scratch view with the live side's projection and
catch-up loop (`catch_up`, up to a stop): memory stays flat whatever the length of the log."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application

from projections.model import periods
from projections.projection import BATCH, ChannelProjection, catch_up
from projections.views import ChannelView
from services.audit.progress import Progress


def replay(
    app: Application[Any],
    view: ChannelView,
    until: int,
    *,
    batch_size: int = BATCH,
    progress: Progress | None = None,
) -> int:
    """Apply the log from the view's tracked position up to `until`, one transaction per batch;
    returns the number of events applied. Resumable: a second call continues where it stopped."""
    applied = catch_up(
        app,
        ChannelProjection(view=view),
        batch_size=batch_size,
        stop=until,
        on_batch=None if progress is None else progress.advance,
    )
    with view.writing() as db:
        # The live side marks each close's follow-up done as it goes; a replay reads it off the log.
        periods.settle_from_log(db)
    return applied
