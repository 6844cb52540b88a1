"""The broker's side of the relay: the topic exists with the partitions the keys are mapped over,
and still holds the last message the relay published to each partition."""

from __future__ import annotations

import logging
import time
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, UnknownTopicOrPartitionError

from infra.envelope import Codec, EnvelopeError
from infra.relay.kafka import KafkaOptions, RelayError, create_topic, delete_topic, topic_partitions
from infra.relay.store import RelayState, RelayStore

log = logging.getLogger("channel.relay")


class BrokerLostData(Exception):
    """The topic no longer holds what the relay published: republish from the start."""


class TopicChecks:
    """The relay's checks of its topic (a part of Relay)."""

    options: KafkaOptions
    codec: Codec
    state: RelayState
    store: RelayStore
    _verified_at: float
    _needs_check: bool

    def check_topic(self) -> None:
        """Make sure the topic exists with the partitions the keys are mapped over, and still
        holds the last message the relay published to each partition."""
        state = self.state
        admin = self.options.admin()
        try:
            actual = topic_partitions(self.options, admin)
            if actual is None:
                wanted = state.partitions or self.options.partitions
                log.info("relay: creating topic %s with %d partitions", self.options.topic, wanted)
                create_topic(self.options, wanted, admin)
                if state.position > 0:
                    raise BrokerLostData(f"topic {self.options.topic} was gone")
                actual = topic_partitions(self.options, admin)
                if actual is None:
                    raise UnknownTopicOrPartitionError(
                        f"topic {self.options.topic} not visible yet")
        finally:
            admin.close()
        if state.partitions is None:
            state.partitions = actual
            self.store.save(state)
        elif actual != state.partitions:
            if state.position > 0 and self._holds_last_messages(state, partitions=actual):
                raise RelayError(
                    f"topic {self.options.topic} has {actual} partitions, but the relay keyed "
                    f"its messages over {state.partitions}; republish with `channel relay "
                    "--republish` into a topic of the intended size")
            # Nothing of ours is there (e.g. a memory broker restarted and a client's metadata
            # request re-created the topic with its default size): restore the topic.
            log.warning("relay: topic %s has %d partitions instead of %d and none of the relay's "
                        "messages; re-creating it", self.options.topic, actual, state.partitions)
            delete_topic(self.options)
            self._wait_gone()
            create_topic(self.options, state.partitions)
            self._verified_at = time.monotonic()
            self._needs_check = True
            if state.position > 0:
                raise BrokerLostData(f"topic {self.options.topic} had lost its messages")
            return
        if state.position > 0 and not self._holds_last_messages(state, partitions=actual):
            raise BrokerLostData(f"topic {self.options.topic} no longer holds the relay's "
                                 "last messages")
        self._verified_at = time.monotonic()
        self._needs_check = False

    def _wait_gone(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while topic_partitions(self.options) is not None and time.monotonic() < deadline:
            time.sleep(0.1)

    def _holds_last_messages(self, state: RelayState, *, partitions: int) -> bool:
        """Whether each partition still holds, at the recorded offset, the message with the
        recorded position. Raises KafkaError when the broker cannot tell (try again later)."""
        reader = self.options.reader()
        try:
            for p, link in sorted(state.links.items()):
                if p >= partitions:
                    return False
                tp = TopicPartition(self.options.topic, p)
                reader.assign([tp])
                reader.seek(tp, link.offset)
                found = self._read_one(reader, tp, link.offset)
                if found is None:
                    return False
                try:
                    envelope = self.codec.decode(found.value)
                except EnvelopeError:
                    return False
                if envelope.position != link.position:
                    return False
            return True
        finally:
            reader.close()

    @staticmethod
    def _read_one(reader: KafkaConsumer, tp: TopicPartition, offset: int,
                  timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                records = reader.poll(timeout_ms=200, max_records=1).get(tp, [])
            except KafkaError as e:  # offset out of range: the log is shorter than we left it
                log.info("relay: reading %s@%d: %s", tp, offset, e)
                return None
            if records:
                return records[0] if records[0].offset == offset else None
            highwater = reader.highwater(tp)
            if highwater is not None and highwater <= offset:
                return None
        raise TimeoutError(f"could not read {tp.topic}[{tp.partition}]@{offset}")
