"""The consumer's faults and holes: a partition stopped at a message it cannot apply, and the
messages that fail the schema, dead-lettered, with the hole each may leave (a part of
ReportingConsumer)."""

from __future__ import annotations

import logging
from typing import Any

from kafka import KafkaProducer, TopicPartition

from infra.envelope import EnvelopeError
from infra.relay import KafkaOptions, create_topic, topic_partitions
from projections import faults
from projections.faults import Hole, ReadFault
from services.consumer.state import ConsumerOptions, Counters, PartitionState, claimed_position
from services.consumer.tracking import ReportingView, partition_name

log = logging.getLogger("channel.consume")


class FaultsAndHoles:
    """Stopping a partition at a fault, dead-lettering, and the holes it leaves."""

    view: ReportingView
    options: ConsumerOptions
    counters: Counters
    consumer: Any
    _producer: KafkaProducer | None

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
