"""The transactional-outbox relay: follows the store's notification log and publishes every event to
Kafka as a CloudEvents envelope (DESIGN: Kafka contract), tracking what it published in the store's
own database so that it resumes after a restart, never skips an event and republishes what a
broker lost."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification, PersistenceError
from kafka import KafkaProducer
from kafka.errors import KafkaError
from psycopg import sql

from infra.envelope import Codec
from infra.persistence import Database
from infra.relay.kafka import HEADERS, KafkaOptions
from infra.relay.keys import PartitionKeys, partition_for
from infra.relay.store import Link, RelayState, RelayStore, open_relay_store
from infra.relay.topic import BrokerLostData, TopicChecks
from infra.sql import open_datastore

log = logging.getLogger("channel.relay")


def _backoff(failures: int) -> float:
    """Seconds before the next attempt: doubling from 0.2 s up to 5 s, jittered."""
    return min(5.0, 0.1 * 2 ** min(failures, 6)) * random.uniform(0.5, 1.0)


@dataclass
class _Batch:
    """A batch of the log encoded: its messages (partition, key, value) and the links they make,
    from `base`, the links they follow."""

    notifications: Sequence[Notification]
    messages: list[tuple[int, bytes | None, bytes]]
    links: dict[int, Link]
    base: dict[int, Link]
    partitions: int
    start: int

    def follows(self, state: RelayState) -> bool:
        """Whether the batch is still the next one of this state (nothing moved since); an empty
        one is read again (events may have come since)."""
        return (bool(self.notifications) and self.base is state.links
                and self.partitions == state.partitions and self.start == state.position + 1)


class Relay(TopicChecks):
    """Publishes the store's notification log to Kafka, in order, at least once.

    `app` is the write side's application (its recorder and mapper read the log). A batch is
    published, flushed and acknowledged before its last position is recorded, so a crash
    republishes (never skips) and consumers drop the duplicates by position.
    """

    def __init__(self, app: Any, database: Database, options: KafkaOptions, *,
                 batch_size: int = 500, idle_seconds: float = 1.0, verify_seconds: float = 5.0,
                 codec: Codec | None = None, store: RelayStore | None = None) -> None:
        self.app = app
        self.options = options
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.verify_seconds = verify_seconds
        # Unchecked: the envelopes are checked by the tests, not decoded again on every message
        # (see Codec). The topic checks still decode what they read back.
        self.codec = codec or Codec(checked=False)
        # The position is a tracking record in the store's database (see relay.store), on a
        # datastore of the relay's own: its record stays readable and writable after the
        # application is closed (a republish asked for before or after a run).
        self.store = store or open_relay_store(
            app.factory.datastore if database.path == ":memory:" else open_datastore(database))
        self.database = database
        self.keys = PartitionKeys(self._first_event)
        self.state = self.store.load(options.topic)
        self.producer: KafkaProducer | None = None
        self.stopping = threading.Event()
        self._verified_at = 0.0
        self._needs_check = True  # the topic and what it holds are checked before publishing
        self.published = 0  # messages acknowledged in this process (a broadcast counts N)
        self._partitions: dict[str, tuple[int, int]] = {}  # key -> (partition count, partition)
        self._ahead: _Batch | None = None  # the next batch, read while one is acknowledged

    def _first_event(self, aggregate_id: UUID) -> Any:
        return next(iter(self.app.events.get(aggregate_id, lte=1)), None)

    # --- the loop -------------------------------------------------------------------------

    def run(self, *, until: int | None = None) -> bool:
        """Publish until stopped (or, with `until`, until that log position is published: True).
        While the broker or the database is unreachable it retries with backoff; it never skips
        an event."""
        failures = 0
        try:
            while not self.stopping.is_set():
                try:
                    with self._waiter() as wait:
                        if self._follow(wait, until):
                            return True
                except (PersistenceError, psycopg.Error, sqlite3.Error) as e:
                    failures += 1
                    delay = _backoff(failures)
                    log.warning("relay: database unavailable (%s: %s); retrying in %.1fs from "
                                "position %d", type(e).__name__, e, delay, self.state.position + 1)
                    self.stopping.wait(delay)
        finally:
            self._drop_producer()
        return False

    def _follow(self, wait: Callable[[float], None], until: int | None) -> bool:
        """Publish batch after batch; True once `until` is published."""
        failures = 0
        while not self.stopping.is_set():
            try:
                if self._needs_check or time.monotonic() - self._verified_at > self.verify_seconds:
                    self.check_topic()
                count = self.publish_next()
                failures = 0
            except BrokerLostData as e:
                self.start_over(str(e))
                continue
            except (KafkaError, OSError, TimeoutError) as e:
                failures += 1
                delay = _backoff(failures)
                log.warning("relay: broker unavailable (%s: %s); retrying in %.1fs from "
                            "position %d", type(e).__name__, e, delay, self.state.position + 1)
                self._drop_producer()
                self._needs_check = True
                self.stopping.wait(delay)
                continue
            if until is not None and self.state.position >= until:
                return True
            if count == 0:
                wait(self.idle_seconds)
        return False

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        self.stop()
        self._drop_producer()

    @contextmanager
    def _waiter(self) -> Iterator[Callable[[float], None]]:
        """Wait for new events: LISTEN to the store's NOTIFY on PostgreSQL, else sleep."""
        channel = getattr(self.app.recorder, "channel_name", None)
        if not self.database.is_postgres or channel is None:

            def sleep(seconds: float) -> None:
                self.stopping.wait(seconds)

            yield sleep
            return
        conn = psycopg.connect(self.database.conninfo(), autocommit=True)
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

            def wait(seconds: float) -> None:
                for _ in conn.notifies(timeout=seconds, stop_after=1):
                    pass

            yield wait
        finally:
            conn.close()

    def _drop_producer(self) -> None:
        producer, self.producer = self.producer, None
        if producer is not None:
            with suppress(Exception):
                producer.close(timeout=0)

    # --- publishing -----------------------------------------------------------------------

    def publish_next(self) -> int:
        """Publish the next batch of the log; returns how many events it held. While the broker
        acknowledges a batch, the next one is read and encoded (its messages follow from the
        positions alone); it is dropped if this batch fails or the state moves otherwise."""
        batch, self._ahead = self._ahead, None
        if batch is None or not batch.follows(self.state):
            batch = self._encode(self._read(self.state.position + 1))
        if not batch.notifications:
            return 0
        sent = self._send(batch)
        try:
            self._ahead = self._encode(self._read(batch.notifications[-1].id + 1), batch.links)
        except Exception as e:  # read again, and reported, when it is this batch's turn
            log.debug("relay: reading ahead: %s", e)
        try:
            self._complete(batch, sent)
        except BaseException:
            self._ahead = None
            raise
        return len(batch.notifications)

    def publish(self, notifications: Sequence[Notification]) -> None:
        """Publish these notifications, the next of the log, and record them."""
        batch = self._encode(notifications)
        self._complete(batch, self._send(batch))

    def _read(self, start: int) -> Sequence[Notification]:
        return self.app.recorder.select_notifications(start=start, limit=self.batch_size)

    def _encode(self, notifications: Sequence[Notification],
                base: dict[int, Link] | None = None) -> _Batch:
        """Every message of the batch, encoded before any is sent: encoding between sends keeps
        the producer's I/O thread waking up for batches of a few messages. `base`: the links the
        batch follows (default: the state's)."""
        assert self.state.partitions is not None, "check_topic() first"
        partitions = self.state.partitions
        base = self.state.links if base is None else base
        links = {p: Link(link.position, link.offset) for p, link in base.items()}
        messages: list[tuple[int, bytes | None, bytes]] = []
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            key = self.keys.key_for(event)
            targets = range(partitions) if key is None else (self._partition(key, partitions),)
            raw_key = None if key is None else key.encode()
            for p in targets:
                value = self.codec.encode(event, position=notification.id,
                                          predecessor=links[p].position if p in links else 0,
                                          partitionkey=key)
                links[p] = Link(notification.id, -1)
                messages.append((p, raw_key, value))
        start = notifications[0].id if notifications else 0
        return _Batch(notifications, messages, links, base, partitions, start)

    def _send(self, batch: _Batch) -> list[tuple[int, Any]]:
        if self.producer is None:
            self.producer = self.options.producer()
        send, topic = self.producer.send, self.options.topic
        return [(p, send(topic, value=value, key=raw_key, partition=p, headers=HEADERS))
                for p, raw_key, value in batch.messages]

    def _complete(self, batch: _Batch, sent: list[tuple[int, Any]]) -> None:
        """Wait for every acknowledgement, then record the batch's last position and links."""
        assert self.producer is not None
        links = batch.links
        self.producer.flush(timeout=self.options.request_timeout_ms * 3 / 1000)
        first: dict[int, int] = {}
        for p, future in sent:
            metadata = future.get(timeout=0)  # raises the send's error, if any
            first.setdefault(p, metadata.offset)
            links[p].offset = max(links[p].offset, metadata.offset)
        for p, offset in first.items():
            known = self.state.links.get(p)
            if known is not None and offset <= known.offset:
                # The broker handed out an offset it had given before: its log was lost.
                raise BrokerLostData(
                    f"partition {p} acknowledged offset {offset}, but offset {known.offset} "
                    f"already held position {known.position}")
        self.state.position = batch.notifications[-1].id
        self.state.links = links
        self.store.save(self.state, changed=sorted(first))
        self.published += len(sent)

    def _partition(self, key: str, partitions: int) -> int:
        cached = self._partitions.get(key)
        if cached is None or cached[0] != partitions:
            if len(self._partitions) > 100_000:
                self._partitions.clear()
            cached = self._partitions[key] = (partitions, partition_for(key, partitions))
        return cached[1]

    def start_over(self, reason: str) -> None:
        """The broker lost what was published: republish the whole log from position 1.
        Consumers drop what they already applied (by position), so nothing counts twice."""
        state = self.state
        log.warning("relay: %s; republishing the log from the start (it was at position %d)",
                    reason, state.position)
        state.position = 0
        state.links = {}
        state.republished += 1
        self.store.save(state)
        self._drop_producer()
        self._needs_check = True
