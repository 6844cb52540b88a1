"""The projection of the log into the read model (the library's `Projection`), fed event by event
by a `ProjectionRunner` (PostgreSQL) or in batches by `catch_up` (SQLite, backlogs, the replay)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import Environment, EnvType

from infra import transcodings
from infra.heap import collector_paused, freeze_long_lived
from infra.logrows import RowReader
from infra.mapper import OrjsonMapper
from projections.faults import ApplyError, is_transient, reason_of
from projections.records import EventRecord
from projections.views import ChannelView

SOURCE = "ChannelLedger"  # the application whose log is projected (ChannelLedger.name)
# Events per transaction of a catch-up (the feed's, the replay's) and of the live feed at most:
# long enough that a gathered run's few statements carry many rows, short enough to keep memory low.
BATCH = 2000


class LogReader(Application[UUID]):
    """Reads the write side's log for a `ProjectionRunner` (same name, same transcodings)."""

    name = SOURCE

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        found = super().construct_env(name, env)
        if found.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
            # It only reads the log, to decode it: as plain rows (infra/logrows.py).
            found["APPLICATION_RECORDER_TOPIC"] = "infra.logrows:RowsPostgresApplicationRecorder"
        # …and decodes them as the library's mapper does, by the read side's (infra/mapper.py).
        found.setdefault("MAPPER_TOPIC", "infra.mapper:OrjsonMapper")
        return found

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register_all(transcoder)


class ChannelProjection(Projection[ChannelView]):
    """One projection for every read model, so that one tracking position covers all tables.
    Every event is tracked (no topic filter): a reader can wait for any command's position."""

    name = "ChannelReadModel"
    topics: tuple[str, ...] = ()

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        record = EventRecord.from_domain_event(domain_event, tracking.notification_id)
        self._process_one((record, tracking))

    def process_events(self, batch: Sequence[tuple[Any, Tracking]]) -> list[EventRecord]:
        """Apply a batch in one transaction. If it fails, its transaction has rolled back: the
        events are applied again one by one, so those before the culprit are applied and the
        `ApplyError` names the culprit (an error is not always raised by the statement of the
        event that caused it: PostgreSQL's pipeline reports errors late)."""
        records = [(EventRecord.from_domain_event(e, t.notification_id), t) for e, t in batch]
        try:
            return self.view.process(records)
        except Exception as error:
            if len(records) == 1 or is_transient(error):
                self._fail(records[0], error)
        applied: list[EventRecord] = []
        for item in records:
            applied.extend(self._process_one(item))
        return applied

    def _process_one(self, item: tuple[EventRecord, Tracking]) -> list[EventRecord]:
        try:
            return self.view.process([item])
        except Exception as error:
            self._fail(item, error)

    @staticmethod
    def _fail(item: tuple[EventRecord, Tracking], error: Exception) -> NoReturn:
        if is_transient(error):
            raise error
        record = item[0]
        raise ApplyError(record.position, record.kind, reason_of(error)) from error


def catch_up(
    source: Application[Any],
    projection: ChannelProjection,
    *,
    batch_size: int = BATCH,
    stop: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Apply what the log holds beyond the view's tracked position (up to `stop`), in batches of
    one transaction each; returns how many events it applied, and tells `on_batch` how many each
    batch applied (a progress bar). Nothing is kept once a batch has committed (the view hands
    each batch's records to its listeners), so memory stays flat whatever the backlog. Safe to
    run from several processes: the view skips, under its write lock, events another feeder
    applied meanwhile. The store's feed, the audit replay and the benchmarks all run it."""
    applied = 0
    freeze_long_lived()
    first = (projection.view.max_tracking_id(source.name) or 0) + 1
    if stop is not None and first > stop:
        return 0
    reader = RowReader(source.recorder)
    with collector_paused() as between_batches:
        while batch := _read(source, reader, first, stop, batch_size):
            first = batch[-1][1].notification_id + 1
            count = len(projection.process_events(batch))
            applied += count
            # Nothing holds the batch when the young generations are collected: they then hold
            # only what outlived it (a cycle, if any), and the collection walks little.
            del batch
            between_batches()
            if on_batch is not None:
                on_batch(count)
    return applied


Batch = list[tuple[Any, Tracking]]


def _read(source: Application[Any], reader: RowReader, first: int, stop: int | None,
          size: int) -> Batch:
    """The log's next `size` events from `first` (up to `stop`), decoded as the library's mapper
    decodes them (by the read side's mapper, infra/mapper.py); empty at its end."""
    name, decode = source.name, OrjsonMapper.of(source.mapper).to_domain_event
    return [(decode(row), Tracking(name, row.id)) for row in reader.read(first, size, stop)]
