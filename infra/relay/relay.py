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
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import Notification, PersistenceError
from kafka import KafkaProducer
from kafka.errors import KafkaError
from psycopg import sql

from infra.envelope import Codec
from infra.envelope.catalog import EventCatalog
from infra.heap import COLLECT_EVERY, collector_paused
from infra.persistence import Database
from infra.relay.encoder import (
    EncoderProcess,
    EncoderUnavailable,
    EnvelopeWriter,
    Item,
    first_event,
)
from infra.relay.kafka import HEADERS, KafkaOptions
from infra.relay.keys import partition_for
from infra.relay.log import LogReader, Row
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
    from `base`, the links they follow; once handed to the producer, the future of each message
    (with its partition)."""

    count: int  # events
    last: int  # the last position (0 for an empty batch)
    messages: list[tuple[int, bytes | None, bytes]]
    links: dict[int, Link]
    base: dict[int, Link]
    partitions: int
    start: int
    sent: list[tuple[int, Any]] | None = None

    def follows(self, state: RelayState) -> bool:
        """Whether the batch is still the next one of this state (nothing moved since); an empty
        one is read again (events may have come since)."""
        return (self.count > 0 and self.base is state.links
                and self.partitions == state.partitions and self.start == state.position + 1)


class Relay(TopicChecks):
    """Publishes the store's notification log to Kafka, in order, at least once.

    `app` is the write side's application (its recorder and mapper read the log). A batch is
    published and acknowledged before its last position is recorded, so a crash republishes
    (never skips) and consumers drop the duplicates by position. The next batch is read, encoded
    and handed to the producer before this one's acknowledgements are awaited: the producer
    always has the next messages to send, and sends them after this batch's, in log order.
    """

    def __init__(self, app: Any, database: Database, options: KafkaOptions, *,
                 batch_size: int = 2000, idle_seconds: float = 1.0, verify_seconds: float = 5.0,
                 codec: Codec | None = None, store: RelayStore | None = None,
                 encoder: EncoderProcess | None = None) -> None:
        self.app = app
        self.options = options
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.verify_seconds = verify_seconds
        # Unchecked: the envelopes are checked by the tests, not decoded again on every message
        # (see Codec). The topic checks still decode what they read back.
        self.codec = codec or Codec(checked=False)
        # Written from the stored state, as the codec writes the mapper's event (with a checked
        # codec, the codec itself writes each: see infra/envelope/stored.py).
        self.writer = EnvelopeWriter(self.codec, app.mapper, first_event(app))
        # On PostgreSQL, the log may be read and the envelopes written in a process of the
        # relay's own (infra/relay/encoder.py), as this one's writer would write them: with the
        # domain's catalogue and this codec's source. A checked codec, or one of another
        # catalogue, writes them here.
        self.encoder = (encoder if encoder is not None and database.is_postgres
                        and self.writer.envelopes.rewrites
                        and self.codec.catalog is EventCatalog.of_domain() else None)
        if self.encoder is not None:
            self.encoder.source = self.codec.source
        # The position is a tracking record in the store's database (see relay.store), on a
        # datastore of the relay's own: its record stays readable and writable after the
        # application is closed (a republish asked for before or after a run).
        self.store = store or open_relay_store(
            app.factory.datastore if database.path == ":memory:" else open_datastore(database))
        self.database = database
        self.log = LogReader(app.recorder, database)
        self.state = self.store.load(options.topic)
        self.producer: KafkaProducer | None = None
        self.stopping = threading.Event()
        self._verified_at = 0.0
        self._needs_check = True  # the topic and what it holds are checked before publishing
        self.published = 0  # messages acknowledged in this process (a broadcast counts N)
        # key -> (partition count, partition, the key's bytes)
        self._partitions: dict[str, tuple[int, int, bytes]] = {}
        self._ahead: _Batch | None = None  # the next batch, sent while one is acknowledged
        self._db: ThreadPoolExecutor | None = None  # reads and records while run() runs
        self._reading: tuple[tuple[int, int | None], Future[list[Row]]] | None = None
        self._saving: tuple[set[int], Future[None]] | None = None  # the last save handed over
        self._unsaved: set[int] = set()  # partitions whose link moved since the last save
        self._apart = False  # while run() runs: the encoder process reads and writes

    # --- the loop -------------------------------------------------------------------------

    def run(self, *, until: int | None = None) -> bool:
        """Publish until stopped (or, with `until`, until that log position is published: True).
        While the broker or the database is unreachable it retries with backoff; it never skips
        an event."""
        failures = 0
        # On PostgreSQL, the log is read and the position recorded on a thread of the relay's
        # own, while this one encodes and sends: their waits overlap the work.
        self._db = (ThreadPoolExecutor(1, thread_name_prefix="relay-db")
                    if self.database.is_postgres and self.log.own else None)
        self._apart = self.encoder is not None
        if not self._apart:
            self._read_ahead(self.state.position + 1, until)  # while the topic is checked
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
            self._finish_ahead()
            self._drop_producer()
            db, self._db = self._db, None
            if db is not None:
                db.submit(self.log.close)
                db.shutdown(wait=True)
            try:
                self._wait_saved()
            except Exception as e:  # published again next time
                log.warning("relay: recording the position failed (%s: %s)", type(e).__name__, e)
            self.log.close()
        return False

    def _follow(self, wait: Callable[[float], None], until: int | None) -> bool:
        """Publish batch after batch; True once `until` is published."""
        failures = 0
        # As in a catch-up: the cyclic collector paused while batches are read, encoded, sent and
        # acknowledged (it would walk their messages and futures again and again), its young
        # generations collected after every COLLECT_EVERY events and whenever the relay waits
        # (infra/heap.py). Paused from one batch to the next: resumed in between, it would
        # collect at once what the batch left.
        since = 0
        with collector_paused() as collect:
            while not self.stopping.is_set():
                if since >= COLLECT_EVERY:
                    collect()
                    since = 0
                try:
                    if (self._needs_check
                            or time.monotonic() - self._verified_at > self.verify_seconds):
                        self.check_topic()
                    count = self.publish_next(until)
                    since += count
                    failures = 0
                except BrokerLostData as e:
                    self.start_over(str(e))
                    continue
                except (KafkaError, OSError, TimeoutError) as e:
                    failures += 1
                    delay = _backoff(failures)
                    log.warning("relay: broker unavailable (%s: %s); retrying in %.1fs from "
                                "position %d", type(e).__name__, e, delay,
                                self.state.position + 1)
                    self._drop_producer()
                    self._needs_check = True
                    collect()
                    self.stopping.wait(delay)
                    continue
                if until is not None and self.state.position >= until:
                    return True
                if count == 0:
                    collect()
                    since = 0
                    wait(self.idle_seconds)
        return False

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        self.stop()
        self._drop_producer()
        self.log.close()
        if self.encoder is not None:
            self.encoder.close()

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
        self._ahead = None  # its messages may or may not arrive: it is published again
        producer, self.producer = self.producer, None
        if producer is not None:
            with suppress(Exception):
                producer.close(timeout=0)

    # --- publishing -----------------------------------------------------------------------

    def publish_next(self, until: int | None = None) -> int:
        """Publish the next batch of the log (none after position `until`); returns how many
        events it held. Before its acknowledgements are awaited, the next batch is read, encoded
        and sent (its messages follow from the positions alone); it is dropped, and published
        again, if this batch fails."""
        batch, self._ahead = self._ahead, None
        if batch is None or not batch.follows(self.state):
            batch = self._encode(self._read(self.state.position + 1, until))
            if not batch.count:
                return 0
            self._send(batch)
        ahead = None
        if until is None or batch.last < until:
            try:
                ahead = self._encode(self._read(batch.last + 1, until), batch.links)
            except Exception as e:  # read again, and reported, when it is this batch's turn
                log.debug("relay: reading ahead: %s", e)
            if ahead is not None and ahead.count:
                self._send(ahead)
            else:
                ahead = None
        self._complete(batch)
        self._ahead = ahead
        return batch.count

    def publish(self, notifications: Sequence[Notification]) -> None:
        """Publish these notifications, the next of the log, and record them."""
        self._finish_ahead()
        batch = self._encode(self.writer.items([
            Row(n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in notifications]))
        self._send(batch)
        self._complete(batch)

    def _finish_ahead(self) -> None:
        """Wait for the batch in flight, if any, and record it (when stopping)."""
        batch, self._ahead = self._ahead, None
        if batch is None or self.producer is None or not batch.follows(self.state):
            return
        try:
            self._complete(batch)
        except Exception as e:  # published again next time
            log.warning("relay: the last batch sent was not acknowledged (%s: %s)",
                        type(e).__name__, e)

    def _read(self, start: int, until: int | None = None) -> list[Item]:
        """The items of the log from `start` (infra/relay/encoder.py): from the encoder process,
        or written here from the rows read ahead if they were (and found some), else read. The
        rows after them are read ahead, while these are sent."""
        if self._apart:
            assert self.encoder is not None
            try:
                return self.encoder.items(start, self.batch_size, until)
            except EncoderUnavailable as e:
                log.warning("relay: %s; reading the log in the relay's own process", e)
                self._apart = False
        reading, self._reading = self._reading, None
        rows: list[Row] = []
        if reading is not None and reading[0] == (start, until):
            rows = reading[1].result()
        if not rows:
            if self._db is None:
                return self.writer.items(self.log.read(start, self.batch_size, until))
            rows = self._db.submit(self.log.read, start, self.batch_size, until).result()
        if rows and (until is None or rows[-1][0] < until):
            self._read_ahead(rows[-1][0] + 1, until)
        return self.writer.items(rows)

    def _read_ahead(self, start: int, until: int | None) -> None:
        if self._db is not None:
            self._reading = ((start, until),
                             self._db.submit(self.log.read, start, self.batch_size, until))

    def _record(self, changed: Sequence[int]) -> None:
        """Record the state (its position and the links of `changed` and of the partitions a
        failed save left behind): on the relay's database thread while run() runs, in order."""
        self._unsaved.update(changed)
        if self._db is None:
            self.store.save(self.state, changed=sorted(self._unsaved))
            self._unsaved.clear()
            return
        try:
            self._wait_saved()
        finally:
            # The save waited for may have recorded some of them at older links: they moved
            # again and are saved with this one.
            self._unsaved.update(changed)
        state = self.state
        snapshot = RelayState(state.topic, state.position, state.partitions, state.republished,
                              dict(state.links))
        partitions = set(self._unsaved)
        self._saving = (partitions, self._db.submit(self.store.save, snapshot,
                                                    changed=sorted(partitions)))

    def _wait_saved(self) -> None:
        """Wait for the last save handed over; raises its error."""
        saving, self._saving = self._saving, None
        if saving is not None:
            saving[1].result()
            self._unsaved -= saving[0]

    def _encode(self, items: Sequence[Item], base: dict[int, Link] | None = None) -> _Batch:
        """Every message of the batch, encoded before any is sent: encoding between sends keeps
        the producer's I/O thread waking up for batches of a few messages. `base`: the links the
        batch follows (default: the state's)."""
        assert self.state.partitions is not None, "check_topic() first"
        partitions = self.state.partitions
        base = self.state.links if base is None else base
        previous = {p: link.position for p, link in base.items()}  # the predecessors
        messages: list[tuple[int, bytes | None, bytes]] = []
        append, finish = messages.append, self.writer.envelopes.finish
        for position, key, head, row in items:
            if key is not None and head is not None:  # the common case: one message, written
                p, key_bytes = self._partition(key, partitions)
                append((p, key_bytes, finish(head, previous.get(p, 0), key)))
                previous[p] = position
                continue
            event = None if row is None else self.app.mapper.to_domain_event(row)
            raw_key: bytes | None = None
            if key is None:
                targets: Sequence[int] = range(partitions)
            else:
                target, raw_key = self._partition(key, partitions)
                targets = (target,)
            for p in targets:
                predecessor = previous.get(p, 0)
                value = (finish(head, predecessor, key) if head is not None else
                         self.codec.encode(event, position=position, predecessor=predecessor,
                                           partitionkey=key))
                previous[p] = position
                append((p, raw_key, value))
        # The links the batch leaves as they were are the base's own: their offsets are those
        # the base's batch records once acknowledged.
        links = dict(base)
        for p, position in previous.items():
            if p not in base or base[p].position != position:
                links[p] = Link(position, -1)
        start = items[0][0] if items else 0
        last = items[-1][0] if items else 0
        return _Batch(len(items), last, messages, links, base, partitions, start)

    def _send(self, batch: _Batch) -> None:
        if self.producer is None:
            self.producer = self.options.producer()
        send, topic = self.producer.send, self.options.topic
        batch.sent = [(p, send(topic, value=value, key=raw_key, partition=p, headers=HEADERS))
                      for p, raw_key, value in batch.messages]

    def _complete(self, batch: _Batch) -> None:
        """Wait for every acknowledgement of the batch, then record its last position and
        links."""
        assert self.producer is not None and batch.sent is not None
        links = batch.links
        deadline = time.monotonic() + self.options.request_timeout_ms * 3 / 1000
        first: dict[int, int] = {}
        for p, future in batch.sent:
            if not future.is_done:  # raises the send's error, if any
                future.get(timeout=max(0.0, deadline - time.monotonic()))
            elif future.exception is not None:
                raise future.exception
            offset = future.value.offset
            if p not in first:
                first[p] = offset
            if offset > links[p].offset:
                links[p].offset = offset
        for p, offset in first.items():
            known = self.state.links.get(p)
            if known is not None and offset <= known.offset:
                # The broker handed out an offset it had given before: its log was lost.
                raise BrokerLostData(
                    f"partition {p} acknowledged offset {offset}, but offset {known.offset} "
                    f"already held position {known.position}")
        self.state.position = batch.last
        self.state.links = links
        self._record(sorted(first))
        self.published += len(batch.sent)

    def _partition(self, key: str, partitions: int) -> tuple[int, bytes]:
        """The key's partition and bytes."""
        cached = self._partitions.get(key)
        if cached is None or cached[0] != partitions:
            if len(self._partitions) > 100_000:
                self._partitions.clear()
            cached = self._partitions[key] = (partitions, partition_for(key, partitions),
                                              key.encode())
        return cached[1], cached[2]

    def start_over(self, reason: str) -> None:
        """The broker lost what was published: republish the whole log from position 1.
        Consumers drop what they already applied (by position), so nothing counts twice."""
        state = self.state
        log.warning("relay: %s; republishing the log from the start (it was at position %d)",
                    reason, state.position)
        with suppress(Exception):  # recorded in full below
            self._wait_saved()
        self._unsaved.clear()
        state.position = 0
        state.links = {}
        state.republished += 1
        self.store.save(state)
        self._drop_producer()
        self._needs_check = True
