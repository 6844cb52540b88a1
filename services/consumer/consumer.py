"""The reporting consumer: one member of the Kafka consumer group that feeds the relay's messages to
the same projection the in-process runners use, into the reporting database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any, NoReturn

from eventsourcing.persistence import IntegrityError, Tracking
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from infra.envelope import Codec, Envelope, EnvelopeError
from infra.heap import COLLECT_FROM, collector_paused, freeze_long_lived
from projections import faults
from projections.faults import ApplyError, is_transient, reason_of
from projections.projection import ChannelProjection
from services.consumer.holes import FaultsAndHoles
from services.consumer.state import ConsumerOptions, Counters, PartitionState, PartitionStopped
from services.consumer.tracking import (
    KafkaTracking,
    ReportingView,
    broadcast_name,
    partition_name,
)

log = logging.getLogger("channel.consume")
HINT_INTERVAL = 1.0  # seconds between two commits of the group's offsets (hints)


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: ReportingConsumer) -> None:
        self.owner = owner

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        for tp in revoked:
            self.owner.partitions.pop(tp, None)
            self.owner._hints.pop(tp, None)

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.owner.assign(list(assigned))


class ReportingConsumer(FaultsAndHoles):
    """One member of the reporting consumer group.

    Each message is decoded and checked by the envelope schema (a message that fails it goes to
    the dead-letter topic), turned back into the domain event and applied by ChannelProjection:
    a partition's events with the partition's tracking (by log position) and offset in one
    transaction; an event published to every partition once per database, under its own
    tracking. The `predecessor` of each envelope tells a gap (the broker lost messages) from a
    duplicate: on a gap the partition is read again from its start.
    """

    def __init__(self, view: ReportingView, options: ConsumerOptions, *,
                 codec: Codec | None = None) -> None:
        self.view = view
        self.projection = ChannelProjection(view)
        self.options = options
        self.codec = codec or Codec()
        self.partitions: dict[TopicPartition, PartitionState] = {}
        self.counters = Counters()
        self.stopping = threading.Event()
        self.consumer: KafkaConsumer | None = None
        self._producer: KafkaProducer | None = None
        # The highest position of an event for all dealers known to be applied (its tracking).
        self._broadcast_applied = 0
        self._hints: dict[TopicPartition, OffsetAndMetadata] = {}
        self._hint_due = 0.0

    # --- lifecycle ------------------------------------------------------------------------

    def run(self, partitions: Sequence[int] | None = None) -> None:
        """Consume until stopped, as a member of the group (or, given `partitions`, from those
        partitions alone, outside any group). An event is never skipped: one the projection
        cannot apply stops its partition; the reporting database unavailable stops the member
        (the group reassigns its partitions)."""
        freeze_long_lived()
        self.consumer = self.options.consumer()
        if partitions is None:
            self.consumer.subscribe([self.options.topic], listener=_Rebalance(self))
        else:
            chosen = [TopicPartition(self.options.topic, p) for p in partitions]
            self.consumer.assign(chosen)
            self.assign(chosen)
        try:
            while not self.stopping.is_set():
                # As in a catch-up: the cyclic collector paused while a poll's records are read
                # and applied (it would walk them again and again), its young generations
                # collected once a long poll is let go (infra/heap.py).
                with collector_paused() as between_polls:
                    if self.poll_once() >= COLLECT_FROM:
                        between_polls()
            self._track_broadcasts(set())
        finally:
            self.close()

    def poll_once(self, timeout_ms: int = 500) -> int:
        assert self.consumer is not None
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        handled = 0
        hints = self._hints
        for tp, records in batches.items():
            if tp not in self.partitions:
                continue  # revoked while the batch was on its way
            handled += len(records)
            next_offset = self.handle(tp, records)
            if next_offset is not None:
                hints[tp] = OffsetAndMetadata(next_offset, "", -1)
        if hints and time.monotonic() >= self._hint_due:
            self._commit_hints()
        fetched = set(batches)
        self._track_broadcasts(fetched)
        self._rewind_beyond_the_end(fetched)
        return handled

    def _track_broadcasts(self, fetched: set[TopicPartition]) -> None:
        """Write the partition tracking of a broadcast event applied last in a partition that
        this poll brought nothing more of (see PartitionState.untracked)."""
        for tp, state in list(self.partitions.items()):
            if state.untracked is not None and tp not in fetched:
                self._flush(state, [])

    def _commit_hints(self) -> None:
        """Only a hint for tools that show the group's lag (the reporting database decides), so
        committed at most once per HINT_INTERVAL seconds, not once per poll."""
        assert self.consumer is not None
        hints, self._hints = self._hints, {}
        self._hint_due = time.monotonic() + HINT_INTERVAL
        if not self.consumer.subscription():
            return  # partitions given, outside any group
        try:
            self.consumer.commit_async(hints)
        except KafkaError as e:
            log.debug("consume: offset hint not committed: %s", e)

    def _rewind_beyond_the_end(self, fetched: set[TopicPartition]) -> None:
        """A partition whose log ends before the offset we are at lost its log (a broker that
        keeps it in memory; a topic re-created): read it again from its start. A broker that
        answers OFFSET_OUT_OF_RANGE gets there by itself (auto_offset_reset="earliest")."""
        assert self.consumer is not None
        for tp, state in list(self.partitions.items()):
            if tp in fetched or state.fault is not None:
                continue
            highwater = self.consumer.highwater(tp)  # from the last fetch response
            if highwater is None:
                continue
            position = self.consumer.position(tp)
            if position is not None and position > highwater:
                log.warning("consume: %s[%d] ends at offset %d, before offset %d where this "
                            "member stands: the log was lost; reading it again from its start",
                            tp.topic, tp.partition, highwater, position)
                self.counters.rewinds += 1
                self.consumer.seek_to_beginning(tp)

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        consumer, self.consumer = self.consumer, None
        if consumer is not None:
            try:
                consumer.close(autocommit=False)
            except KafkaError as e:
                log.debug("consume: close: %s", e)
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)

    # --- assignment -----------------------------------------------------------------------

    def assign(self, assigned: Sequence[TopicPartition]) -> None:
        """Seek each partition to the offset stored with its rows; Kafka's commits are ignored."""
        assert self.consumer is not None
        stored = self.view.stored_offsets(self.options.topic)
        self._broadcast_applied = 0  # read again from the tracking, as the partitions' positions
        for tp in assigned:
            name = partition_name(tp.topic, tp.partition)
            position = self.view.max_tracking_id(name) or 0
            # An assignment (a start, a restart, a rebalance) tries a recorded fault again.
            retrying = faults.stopped(self.view, name, position)
            self.partitions[tp] = PartitionState(position, retrying=retrying)
            self.consumer.resume(tp)
            offset = stored.get(tp.partition)
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
            log.info("consume: assigned %s[%d] at offset %s (position %d)", tp.topic,
                     tp.partition, "start" if offset is None else offset, position)
            if retrying is not None:
                log.warning("consume: %s[%d] stopped at offset %s, %s (since %s); trying again",
                            tp.topic, tp.partition, retrying.kafka_offset, retrying.describe(),
                            retrying.recorded_at)
            for hole in faults.holes(self.view, name):
                log.warning("consume: open hole %s; the reporting database may miss its event "
                            "until it is resolved (channel consume --status)", hole.describe())

    # --- handling -------------------------------------------------------------------------

    def handle(self, tp: TopicPartition, records: Sequence[Any]) -> int | None:
        """Apply one partition's records, in order; returns the next offset to read (None if
        the partition was rewound or stopped)."""
        state = self.partitions[tp]
        if state.fault is not None:
            return None  # paused at a message it cannot apply: nothing after it, until a restart
        try:
            return self._handle(tp, state, records)
        except PartitionStopped as stop:
            self._stop(tp, state, stop.fault)
            return None

    def _handle(self, tp: TopicPartition, state: PartitionState, records: Sequence[Any]) -> int | None:
        pending: list[tuple[Any, Tracking]] = []
        topic, partition = tp.topic, tp.partition
        name = partition_name(topic, partition)
        decode, track = self.codec.decode, KafkaTracking.at
        last_offset: int | None = None
        skipped = False  # the last records produced no rows: store their offset at the end
        for record in records:
            offset = record.offset
            try:
                envelope = decode(record.value)
            except EnvelopeError as e:
                self._flush(state, pending)
                self._dead_letter_hole(tp, state, record, e)
                self.view.store_offset(topic, partition, offset + 1)
                last_offset, skipped = offset, False
                continue
            position = envelope.position
            if position <= state.position:
                self.counters.duplicates += 1
                last_offset, skipped = offset, True
                continue
            if envelope.predecessor > state.position and not self._hole_explains(
                    tp, state, offset, envelope.predecessor):
                self._flush(state, pending)
                if not state.rewound:
                    # Messages before this one are missing (the broker lost them and the relay
                    # republishes): read the partition again from its start.
                    log.warning(
                        "consume: gap in %s[%d] at offset %d: position %d follows %d, but %d is "
                        "the last applied; reading the partition again from its start",
                        topic, partition, offset, position, envelope.predecessor, state.position)
                    state.rewound = True
                    self.counters.rewinds += 1
                    assert self.consumer is not None
                    self.consumer.seek_to_beginning(tp)
                    return None
                # Still missing after reading from the start: a message published into a log
                # the broker then lost; its event is republished later in order.
                self.counters.orphans += 1
                last_offset, skipped = offset, True
                continue
            if state.holes:
                self._close_holes(tp, state, offset)
            state.rewound = False
            try:
                event = envelope.to_event()
            except Exception as error:
                self._not_an_event(state, pending, name, envelope, offset, error)
            if envelope.broadcast:
                if pending:  # applied before it; a broadcast's tracking waits (untracked)
                    self._flush(state, pending)
                self._apply_broadcast(tp, state, envelope, event, offset)
            else:
                pending.append((event, track(name, position, topic, partition, offset)))
            state.position = position
            last_offset, skipped = offset, False
        # A broadcast event applied last keeps its partition tracking for the partition's next
        # events, unless an offset is stored after it.
        self._flush(state, pending, track=skipped)
        if state.retrying is not None:
            self._resumed(tp, state)
        if last_offset is None:
            return None
        if skipped:
            self.view.store_offset(topic, partition, last_offset + 1)
        return last_offset + 1

    def _not_an_event(self, state: PartitionState, pending: list[tuple[Any, Tracking]], name: str,
                      envelope: Envelope, offset: int, error: Exception) -> NoReturn:
        """A valid envelope the projection's input cannot be made of: the consumer's code, not
        the message, is at fault; it waits for a fixed one."""
        if is_transient(error):
            raise error
        self._flush(state, pending)
        fault = ApplyError(envelope.position, envelope.type.qualname, reason_of(error))
        raise PartitionStopped(fault.fault(name, offset)) from error

    def _flush(self, state: PartitionState, pending: list[tuple[Any, Tracking]], *,
               track: bool = True) -> None:
        """Apply a run of one partition's events in one transaction (rows, tracking, offset).
        With none, the tracking (and offset) of a broadcast event applied last is written
        (`track`), or kept for later."""
        if not pending and not track:
            return
        untracked, state.untracked = state.untracked, None
        if not pending:
            if untracked is not None:
                # IntegrityError: the partition's tracking is past it already (a previous
                # owner's work).
                with suppress(IntegrityError):
                    self.view.insert_tracking(untracked)
            return
        try:
            applied = self.projection.process_events(pending)
        except ApplyError as error:
            # The events before it are applied with their offsets; it and those after it wait.
            offset = next((t.offset for _, t in pending
                           if isinstance(t, KafkaTracking) and t.notification_id == error.position),
                          None)
            raise PartitionStopped(error.fault(pending[0][1].application_name, offset)) from error
        self.counters.applied += len(applied)
        self.counters.duplicates += len(pending) - len(applied)
        pending.clear()

    def _apply_broadcast(self, tp: TopicPartition, state: PartitionState, envelope: Envelope,
                         event: Any, offset: int) -> None:
        """Once per database, whichever partition brings it first: its own tracking decides.
        The partition's tracking moves past it with the partition's next events, or alone when
        a poll brings none of them (`_track_broadcasts`)."""
        position = envelope.position
        if position > self._broadcast_applied:
            try:
                applied = self.projection.process_events(
                    [(event, Tracking(broadcast_name(tp.topic), position))])
            except ApplyError as error:
                raise PartitionStopped(
                    error.fault(partition_name(tp.topic, tp.partition), offset)) from error
            self.counters.broadcast_applied += len(applied)
            # Applied by now, by this member or another: the broadcasts' tracking is past it.
            self._broadcast_applied = position
        state.untracked = KafkaTracking.at(partition_name(tp.topic, tp.partition), position,
                                           tp.topic, tp.partition, offset)
