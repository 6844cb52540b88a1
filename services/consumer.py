"""The reporting consumer: a Kafka consumer group that feeds the relay's messages to the same
projection the in-process runners use, into a reporting database, with each partition's offset
stored in the same transaction as the rows it produced.

A message that decodes but cannot be applied stops its partition there (paused, nothing
dead-lettered or skipped; the fault recorded in the reporting database); a message that cannot
be decoded goes to the dead-letter topic, and the hole it may leave is recorded until resolved."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Tracking
from eventsourcing.utils import Environment
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from infra.envelope import Codec, Envelope, EnvelopeError
from infra.persistence import parse_database_url
from infra.relay import SMALL_POOL, KafkaOptions, create_topic, topic_partitions
from projections import faults
from projections.faults import ApplyError, Hole, ReadFault, is_transient, reason_of
from projections.projection import ChannelProjection
from projections.views import ChannelView, PostgresChannelView, SQLiteChannelView

log = logging.getLogger("channel.consume")

OFFSETS_TABLE = "channel_consumer_offsets"


def partition_prefix(topic: str) -> str:
    return f"kafka:{topic}:"


def partition_name(topic: str, partition: int) -> str:
    """The tracking name of one partition in the reporting database."""
    return f"{partition_prefix(topic)}{partition}"


def broadcast_name(topic: str) -> str:
    """The tracking name of the events published to every partition: applied once per database."""
    return f"kafka:{topic}:*"


@dataclass(frozen=True)
class KafkaTracking(Tracking):
    """A partition's tracking (by log position, so duplicates are dropped whatever their offset)
    that also carries the Kafka offset to store with it."""

    topic: str = ""
    partition: int = 0
    offset: int = 0


class OffsetsMixin:
    """Writes the partition's next offset in the transaction that writes the tracking record."""

    dialect: Any
    datastore: Any

    def _offsets_table(self) -> str:
        if self.dialect.kind == "postgres":
            return f'"{self.datastore.schema or "public"}".{OFFSETS_TABLE}'
        return OFFSETS_TABLE

    def _param(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect.kind == "postgres" else statement

    def create_table(self) -> None:
        super().create_table()  # type: ignore[misc]
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self._offsets_table()} (topic TEXT NOT NULL, "
                "kafka_partition INTEGER NOT NULL, next_offset BIGINT NOT NULL, "
                "PRIMARY KEY (topic, kafka_partition))"
            )

    def _insert_tracking(self, cursor: Any, tracking: Tracking) -> None:
        super()._insert_tracking(cursor, tracking)  # type: ignore[misc]
        if isinstance(tracking, KafkaTracking):
            self._store_offset(cursor, tracking.topic, tracking.partition, tracking.offset + 1)

    def _store_offset(self, cursor: Any, topic: str, partition: int, next_offset: int) -> None:
        cursor.execute(
            self._param(
                f"INSERT INTO {self._offsets_table()} (topic, kafka_partition, next_offset) "
                "VALUES (?, ?, ?) ON CONFLICT (topic, kafka_partition) "
                "DO UPDATE SET next_offset = excluded.next_offset"
            ),
            (topic, partition, next_offset),
        )

    def store_offset(self, topic: str, partition: int, next_offset: int) -> None:
        """Record an offset alone (a message that produced no rows: dead-lettered, a duplicate)."""
        with self.datastore.transaction(commit=True) as cursor:
            self._store_offset(cursor, topic, partition, next_offset)

    def stored_offsets(self, topic: str) -> dict[int, int]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                self._param(f"SELECT kafka_partition, next_offset FROM {self._offsets_table()} "
                            "WHERE topic = ?"),
                (topic,),
            )
            rows = cursor.fetchall()
        return {int(_col(r, 0, "kafka_partition")): int(_col(r, 1, "next_offset")) for r in rows}


def _col(row: Any, index: int, name: str) -> Any:
    return row[name] if isinstance(row, dict) else row[index]


class PostgresReportingView(OffsetsMixin, PostgresChannelView):
    pass


class SQLiteReportingView(OffsetsMixin, SQLiteChannelView):
    pass


ReportingView = PostgresReportingView | SQLiteReportingView


def open_reporting_view(url: str) -> ReportingView:
    """The read-model view on the reporting database (tables created if missing)."""
    database = parse_database_url(url)
    # One thread writes: a small pool (CHANNELREADMODEL_POSTGRES_POOL_SIZE etc. still override).
    env = Environment(ChannelProjection.name, {**os.environ, **database.eventsourcing_env(),
                                               **SMALL_POOL})
    view_class = PostgresReportingView if database.is_postgres else SQLiteReportingView
    for attempt in range(5):
        factory: Any = InfrastructureFactory.construct(env=env)
        try:
            view: ReportingView = factory.tracking_recorder(view_class)
            return view
        except IntegrityError:
            # Two processes creating the tables at once (CREATE TABLE IF NOT EXISTS is not safe
            # against that on PostgreSQL): the other one made them; look again.
            factory.close()
            time.sleep(0.1 * (attempt + 1))
    raise RuntimeError(f"could not create the reporting tables in {url}")


def reporting_positions(view: ChannelView, topic: str, partitions: int) -> dict[int, int]:
    """The last log position applied from each partition (0 for none)."""
    return {p: view.max_tracking_id(partition_name(topic, p)) or 0 for p in range(partitions)}


@dataclass(frozen=True)
class ReportingStatus:
    """What a reporting database holds of a topic: each partition's last position applied and
    next offset, the partitions stopped at a message they cannot apply, the open holes."""

    topic: str
    partitions: dict[int, tuple[int, int]]
    stopped: list[ReadFault]
    holes: list[Hole]

    @property
    def ok(self) -> bool:
        return not self.stopped and not self.holes

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic, "ok": self.ok,
            "partitions": [{"partition": p, "position": pos, "next_offset": offset}
                           for p, (pos, offset) in sorted(self.partitions.items())],
            "stopped": [{"partition": _partition_of(f.feed), **f.as_dict()} for f in self.stopped],
            "holes": [h.as_dict() for h in self.holes],
        }


def _partition_of(feed: str) -> int:
    return int(feed.rsplit(":", 1)[-1])


def reporting_status(view: ReportingView, topic: str) -> ReportingStatus:
    prefix = partition_prefix(topic)
    offsets = view.stored_offsets(topic)
    recorded = faults.recorded_all(view, prefix)
    numbers = set(offsets) | {_partition_of(f.feed) for f in recorded}
    partitions = {p: (view.max_tracking_id(partition_name(topic, p)) or 0, offsets.get(p, 0))
                  for p in sorted(numbers)}
    # A fault whose event has been applied since stops nothing (see faults.stopped).
    stopped = [f for f in recorded if f.position > partitions[_partition_of(f.feed)][0]]
    return ReportingStatus(topic, partitions, stopped, faults.holes(view, prefix))


def resolve_hole(view: ReportingView, topic: str, partition: int, offset: int, note: str) -> bool:
    """An operator's word that a hole is dealt with (say how: the reporting database rebuilt,
    the message known to hold no event...)."""
    return faults.resolve_hole(view, partition_name(topic, partition), offset,
                               f"resolved by an operator: {note}")


# --- the consumer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsumerOptions:
    """How the consumer talks to the broker (settings CHANNEL_KAFKA_*)."""

    bootstrap: str
    topic: str
    group: str
    dead_letter_topic: str
    max_poll_interval_ms: int = 5000
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1000
    max_poll_records: int = 500
    client_id: str = "channel-consume"

    def consumer(self) -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            client_id=self.client_id,
            enable_auto_commit=False,  # the reporting database holds the offsets
            auto_offset_reset="earliest",  # an offset the broker lost: read from the start
            allow_auto_create_topics=False,
            max_poll_interval_ms=self.max_poll_interval_ms,
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_interval_ms,
            max_poll_records=self.max_poll_records,
            fetch_max_wait_ms=100,
        )

    def producer(self) -> KafkaProducer:
        return KafkaProducer(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-dlt",
                             acks="all", linger_ms=0, max_block_ms=10_000)


@dataclass
class PartitionState:
    """What the consumer knows of one assigned partition."""

    position: int  # the last log position applied from it (tracking in the reporting database)
    rewound: bool = False  # read again from the start after a gap; a second gap is an orphan
    fault: ReadFault | None = None  # stopped (paused) at this message until a restart
    retrying: ReadFault | None = None  # a fault recorded before the assignment, tried again
    # Messages dead-lettered since the last one applied: (offset, the log position each claims).
    holes: list[tuple[int, int | None]] = field(default_factory=list)


class PartitionStopped(Exception):
    def __init__(self, fault: ReadFault) -> None:
        super().__init__(fault.describe())
        self.fault = fault


def claimed_position(value: bytes | None) -> int | None:
    """The `position` an undecodable message says it holds, if it says one at all."""
    try:
        document = json.loads(value or b"")
    except ValueError:
        return None
    position = document.get("position") if isinstance(document, dict) else None
    return position if type(position) is int and position > 0 else None


@dataclass
class Counters:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    stopped: int = 0  # partitions stopped at a message they cannot apply
    rewinds: int = 0
    orphans: int = 0
    broadcast_applied: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: ReportingConsumer) -> None:
        self.owner = owner

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        for tp in revoked:
            self.owner.partitions.pop(tp, None)

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.owner.assign(list(assigned))


class ReportingConsumer:
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

    # --- lifecycle ------------------------------------------------------------------------

    def run(self, partitions: Sequence[int] | None = None) -> None:
        """Consume until stopped, as a member of the group (or, given `partitions`, from those
        partitions alone, outside any group). An event is never skipped: one the projection
        cannot apply stops its partition; the reporting database unavailable stops the member
        (the group reassigns its partitions)."""
        self.consumer = self.options.consumer()
        if partitions is None:
            self.consumer.subscribe([self.options.topic], listener=_Rebalance(self))
        else:
            chosen = [TopicPartition(self.options.topic, p) for p in partitions]
            self.consumer.assign(chosen)
            self.assign(chosen)
        try:
            while not self.stopping.is_set():
                self.poll_once()
        finally:
            self.close()

    def poll_once(self, timeout_ms: int = 500) -> int:
        assert self.consumer is not None
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        handled = 0
        hints: dict[TopicPartition, OffsetAndMetadata] = {}
        grouped = bool(self.consumer.subscription())
        for tp, records in batches.items():
            if tp not in self.partitions:
                continue  # revoked while the batch was on its way
            handled += len(records)
            next_offset = self.handle(tp, records)
            if next_offset is not None:
                hints[tp] = OffsetAndMetadata(next_offset, "", -1)
        if hints and grouped:
            # Only a hint for tools that show the group's lag: the reporting database decides.
            try:
                self.consumer.commit_async(hints)
            except KafkaError as e:
                log.debug("consume: offset hint not committed: %s", e)
        self._rewind_beyond_the_end(set(batches))
        return handled

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
        name = partition_name(tp.topic, tp.partition)
        last_offset: int | None = None
        skipped = False  # the last records produced no rows: store their offset at the end
        for record in records:
            try:
                envelope = self.codec.decode(record.value)
            except EnvelopeError as e:
                self._flush(pending)
                self._dead_letter_hole(tp, state, record, e)
                self.view.store_offset(tp.topic, tp.partition, record.offset + 1)
                last_offset, skipped = record.offset, False
                continue
            if envelope.position <= state.position:
                self.counters.duplicates += 1
                last_offset, skipped = record.offset, True
                continue
            if envelope.predecessor > state.position and not self._hole_explains(
                    tp, state, record.offset, envelope.predecessor):
                self._flush(pending)
                if not state.rewound:
                    # Messages before this one are missing (the broker lost them and the relay
                    # republishes): read the partition again from its start.
                    log.warning(
                        "consume: gap in %s[%d] at offset %d: position %d follows %d, but %d is "
                        "the last applied; reading the partition again from its start",
                        tp.topic, tp.partition, record.offset, envelope.position,
                        envelope.predecessor, state.position)
                    state.rewound = True
                    self.counters.rewinds += 1
                    assert self.consumer is not None
                    self.consumer.seek_to_beginning(tp)
                    return None
                # Still missing after reading from the start: a message published into a log
                # the broker then lost; its event is republished later in order.
                self.counters.orphans += 1
                last_offset, skipped = record.offset, True
                continue
            self._close_holes(tp, state, record.offset)
            state.rewound = False
            event = self._event(name, envelope, record.offset, pending)
            if envelope.broadcast:
                self._flush(pending)
                self._apply_broadcast(tp, envelope, event, record.offset)
            else:
                pending.append((event, KafkaTracking(name, envelope.position, topic=tp.topic,
                                                     partition=tp.partition,
                                                     offset=record.offset)))
            state.position = envelope.position
            last_offset, skipped = record.offset, False
        self._flush(pending)
        self._resumed(tp, state)
        if last_offset is None:
            return None
        if skipped:
            self.view.store_offset(tp.topic, tp.partition, last_offset + 1)
        return last_offset + 1

    def _event(self, name: str, envelope: Envelope, offset: int,
               pending: list[tuple[Any, Tracking]]) -> Any:
        try:
            return envelope.to_event()
        except Exception as error:
            # A valid envelope the projection's input cannot be made of: the consumer's code,
            # not the message, is at fault; it waits for a fixed one.
            if is_transient(error):
                raise
            self._flush(pending)
            fault = ApplyError(envelope.position, envelope.type.qualname, reason_of(error))
            raise PartitionStopped(fault.fault(name, offset)) from error

    def _flush(self, pending: list[tuple[Any, Tracking]]) -> None:
        """Apply a run of one partition's events in one transaction (rows, tracking, offset)."""
        if not pending:
            return
        try:
            applied = self.projection.process_events(list(pending))
        except ApplyError as error:
            # The events before it are applied with their offsets; it and those after it wait.
            offset = next((t.offset for _, t in pending
                           if isinstance(t, KafkaTracking) and t.notification_id == error.position),
                          None)
            raise PartitionStopped(error.fault(pending[0][1].application_name, offset)) from error
        self.counters.applied += len(applied)
        self.counters.duplicates += len(pending) - len(applied)
        pending.clear()

    def _apply_broadcast(self, tp: TopicPartition, envelope: Envelope, event: Any,
                         offset: int) -> None:
        # Once per database, whichever partition brings it first: its own tracking decides.
        try:
            applied = self.projection.process_events(
                [(event, Tracking(broadcast_name(tp.topic), envelope.position))])
        except ApplyError as error:
            raise PartitionStopped(error.fault(partition_name(tp.topic, tp.partition), offset)) from error
        self.counters.broadcast_applied += len(applied)
        # IntegrityError: the partition's tracking is past it already (a previous owner's work).
        with suppress(IntegrityError):
            self.view.insert_tracking(KafkaTracking(
                partition_name(tp.topic, tp.partition), envelope.position, topic=tp.topic,
                partition=tp.partition, offset=offset))

    # --- faults and holes -------------------------------------------------------------------

    def _stop(self, tp: TopicPartition, state: PartitionState, fault: ReadFault) -> None:
        """Pause the partition at the message: not committed, not dead-lettered, nothing after it
        applied; the other partitions go on. A restart (any new assignment) retries it."""
        faults.record(self.view, fault)
        state.fault = fault
        state.position = self.view.max_tracking_id(fault.feed) or 0
        self.counters.stopped += 1
        assert self.consumer is not None
        self.consumer.pause(tp)
        log.error("consume: %s[%d] stopped at offset %s, %s; it is not dead-lettered and nothing "
                  "after it is applied, the other partitions go on. Fix the cause and restart the "
                  "consumer: it tries again from there", tp.topic, tp.partition,
                  fault.kafka_offset, fault.describe())

    def _resumed(self, tp: TopicPartition, state: PartitionState) -> None:
        fault = state.retrying
        if fault is not None and state.position >= fault.position:
            faults.clear(self.view, fault.feed, state.position)
            state.retrying = None
            log.warning("consume: %s[%d] resumed: log position %d (%s) is applied", tp.topic,
                        tp.partition, fault.position, fault.event_type)

    def _dead_letter_hole(self, tp: TopicPartition, state: PartitionState, record: Any,
                          error: EnvelopeError) -> None:
        """Dead-letter an undecodable message and record the hole it may leave. A message read
        again (the partition read from its start) is not dead-lettered twice."""
        name = partition_name(tp.topic, tp.partition)
        digest = faults.digest(record.value)
        claimed = claimed_position(record.value)
        known = faults.hole_at(self.view, name, record.offset)
        if known is None or known.digest != digest:
            reason = self.dead_letter(record, error)
            faults.record_hole(self.view, Hole(name, record.offset, claimed, digest, reason,
                                               faults.now()))
        state.holes.append((record.offset, claimed))

    def _hole_explains(self, tp: TopicPartition, state: PartitionState, offset: int,
                       predecessor: int) -> bool:
        """Whether the message just dead-lettered is the predecessor this one names: then the
        gap is that hole (the event at `predecessor` is missing), not a log the broker lost."""
        if not state.holes:
            return False
        hole_offset, claimed = state.holes[-1]
        if hole_offset != offset - 1 or claimed not in (None, predecessor):
            return False
        name = partition_name(tp.topic, tp.partition)
        faults.place_hole(self.view, name, hole_offset, predecessor)
        state.holes.clear()
        log.error("consume: hole in %s[%d]: log position %d, dead-lettered at offset %d, is "
                  "missing from the reporting database; it stays reported until resolved "
                  "(channel consume --status)", tp.topic, tp.partition, predecessor, hole_offset)
        return True

    def _close_holes(self, tp: TopicPartition, state: PartitionState, offset: int) -> None:
        """This message continues the log from the last position applied: the messages
        dead-lettered before it held no event of the log that is missing here."""
        name = partition_name(tp.topic, tp.partition)
        for hole_offset, _ in state.holes:
            resolution = (f"no event missing: offset {offset} continues the log from position "
                          f"{state.position}")
            if faults.resolve_hole(self.view, name, hole_offset, resolution):
                log.info("consume: hole %s@%d resolved: %s", name, hole_offset, resolution)
        state.holes.clear()

    def dead_letter(self, record: Any, error: EnvelopeError) -> str:
        """Send a message that fails its schema to the dead-letter topic, and say so; returns
        the reason."""
        if self._producer is None:
            self._ensure_dead_letter_topic()
            self._producer = self.options.producer()
        reason = f"{error}: {error.errors}" if error.errors else str(error)
        headers = [
            *(record.headers or []),
            ("channel-error", reason.encode()[:4000]),
            ("channel-source", f"{record.topic}:{record.partition}:{record.offset}".encode()),
        ]
        future = self._producer.send(self.options.dead_letter_topic, key=record.key,
                                     value=record.value, headers=headers)
        self._producer.flush(timeout=10)
        future.get(timeout=0)
        self.counters.dead_lettered += 1
        log.error("consume: dead-lettered %s[%d]@%d to %s: %s", record.topic, record.partition,
                  record.offset, self.options.dead_letter_topic, reason)
        return reason

    def _ensure_dead_letter_topic(self) -> None:
        # A broker may not create topics on first use (auto.create.topics.enable=false).
        dead = KafkaOptions(bootstrap=self.options.bootstrap, topic=self.options.dead_letter_topic,
                            partitions=1, client_id=self.options.client_id)
        if topic_partitions(dead) is None:
            create_topic(dead, 1)
