"""An audit session: the write side's log, the live read model, a cut of the log (`--until`,
`--as-of`) and scratch read models rebuilt up to it. The audit reads the live side, never writes
it: it neither feeds the live projections nor runs the close's process manager."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import monotonic

from domain.policy import PolicyBook
from infra.persistence import Database, parse_database_url
from infra.settings import Settings
from projections.projection import BATCH, SOURCE
from projections.queries import Reports
from projections.views import ChannelView
from services.application import ChannelLedger
from services.audit import scratch as scratch_area
from services.audit.compare import Comparison, compare_in, snapshot
from services.audit.progress import Progress
from services.audit.replay import replay
from services.audit.timeline import Cut, resolve
from services.bootstrap import build_application

# Times the replay chases a live read model that keeps moving before comparing anyway.
CATCH_UP_ROUNDS = 5


@dataclass
class ReplayReport:
    cut: Cut | None  # None: up to the live read model's position
    live_position: int  # where the live tables stood when compared
    replayed_to: int
    events: int
    seconds: float
    comparison: Comparison
    scratch: str  # the kept scratch's URL, else ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def equal(self) -> bool:
        return self.comparison.equal


class Audit:
    def __init__(self, settings: Settings, *, progress: bool = False) -> None:
        self.database: Database = parse_database_url(settings.CHANNEL_DATABASE_URL)
        # The audit never writes, not even a store's first policy version.
        self.app: ChannelLedger = build_application(settings, open_policy=False)
        self.progress = progress
        self._live: ChannelView | None = None

    def close(self) -> None:
        if self._live is not None:
            scratch_area.close_view(self._live)
        self.app.close()

    def __enter__(self) -> Audit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the live side, the log ---------------------------------------------------------------

    @property
    def live(self) -> ChannelView:
        if self._live is None:
            self._live = scratch_area.open_view(self.database)
        return self._live

    @property
    def policy(self) -> PolicyBook:
        """The policy versions the log records, as the live read model holds them (R4)."""
        return Reports(self.live).policy()

    @property
    def live_position(self) -> int:
        return self.live.max_tracking_id(SOURCE) or 0

    @property
    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def cut(self, until: int | None = None, as_of: str | None = None) -> Cut:
        return resolve(self.app.recorder, self.app.mapper, until=until, as_of=as_of)

    # --- rebuilding ---------------------------------------------------------------------------

    @contextmanager
    def rebuilt(
        self,
        until: int,
        *,
        name: str | None = None,
        keep: bool = False,
        batch_size: int = BATCH,
        label: str = "replay",
    ) -> Iterator[scratch_area.Scratch]:
        """A scratch read model rebuilt from positions 1..`until`; dropped on exit unless kept."""
        area = scratch_area.create(self.database, name)
        try:
            self.extend(area, until, batch_size=batch_size, label=label)
            yield area
        finally:
            if keep:
                area.close()
            else:
                area.drop()

    def extend(
        self, area: scratch_area.Scratch, until: int, *, batch_size: int = BATCH,
        label: str = "replay",
    ) -> int:
        done = area.view.max_tracking_id(SOURCE) or 0
        bar = Progress(label, max(until - done, 0), enabled=self.progress)
        applied = replay(self.app, area.view, until, batch_size=batch_size, progress=bar)
        bar.finish()
        return applied

    def replay_and_compare(
        self,
        *,
        until: int | None = None,
        as_of: str | None = None,
        name: str | None = None,
        keep: bool = False,
        batch_size: int = BATCH,
        limit: int = 20,
    ) -> ReplayReport:
        """Rebuild into a scratch area and compare with the live tables in one snapshot. Without
        a cut the replay goes as far as the live tables are, following them if they move."""
        cut = self.cut(until, as_of) if until is not None or as_of is not None else None
        target = cut.position if cut is not None else self.live_position
        tracking = scratch_area.tracking_table(self.live)
        started = monotonic()
        area = scratch_area.create(self.database, name)
        try:
            events = self.extend(area, target, batch_size=batch_size)
            for _ in range(CATCH_UP_ROUNDS):
                with snapshot(self.database, tracking, area) as snap:
                    live_now = snap.live_position()
                    if cut is not None or live_now <= target:
                        comparison = compare_in(snap, target, limit)
                        break
                target = live_now
                events += self.extend(area, target, batch_size=batch_size)
            else:
                with snapshot(self.database, tracking, area) as snap:
                    comparison = compare_in(snap, target, limit)
            seconds = monotonic() - started
        finally:
            if keep:
                area.close()
            else:
                area.drop()
        return ReplayReport(cut, comparison.live_position, target, events, seconds, comparison,
                            area.url if keep else "")
