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
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, PersistenceError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError, UnknownTopicOrPartitionError
from kafka.partitioner.default import murmur2
from psycopg import sql

from domain.dealer import Dealer
from infra.envelope import CONTENT_TYPE, Codec, EnvelopeError
from infra.persistence import Database

log = logging.getLogger("channel.relay")

HEADERS = [("content-type", CONTENT_TYPE.encode())]
ON, OFF = {"on", "true", "yes", "1"}, {"off", "false", "no", "0"}
# The relay and each consumer work from one thread: small PostgreSQL connection pools.
SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}


class RelayError(RuntimeError):
    """The relay cannot go on without an operator (e.g. the topic was repartitioned)."""


class BrokerLostData(Exception):
    """The topic no longer holds what the relay published: republish from the start."""


# --- keys and partitions (DESIGN: Kafka contract) -----------------------------------------------


def partition_for(key: str, partitions: int) -> int:
    """Kafka's default partitioner for a keyed record (murmur2, as the Java client)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def _key_of_creation(created: Any) -> str | None:
    """The dealer an aggregate belongs to, read from its creation event (None: all dealers)."""
    if isinstance(created, Dealer.Event):
        return str(created.originator_id)
    for name in ("dealer_id", "pool"):  # orders, credit lines, rebate slips; spare-parts pools
        value = getattr(created, name, None)
        if value is not None:
            return str(value)
    return None


class PartitionKeys:
    """The Kafka key of each event: the dealer it concerns, or None for an event that concerns
    every dealer (price list, accounting calendar, the roster's opening), which is broadcast.

    A later event of an order (or credit line, pool, slip) does not name its dealer: the key comes
    from the aggregate's creation event, remembered here or read back from the store."""

    def __init__(self, load_first: Callable[[UUID], Any], capacity: int = 100_000) -> None:
        self._load_first = load_first
        self._capacity = capacity
        self._keys: OrderedDict[UUID, str | None] = OrderedDict()

    def key_for(self, event: Any) -> str | None:
        if isinstance(event, Dealer.Event):
            return str(event.originator_id)
        aggregate_id: UUID = event.originator_id
        if isinstance(event, Aggregate.Created):
            key = self._remember(aggregate_id, _key_of_creation(event))
        elif aggregate_id in self._keys:
            self._keys.move_to_end(aggregate_id)
            key = self._keys[aggregate_id]
        else:
            key = self._remember(aggregate_id, _key_of_creation(self._load_first(aggregate_id)))
        if key is None:  # the roster's seat and repair-centre events name their dealer
            named = getattr(event, "dealer_id", None)
            return None if named is None else str(named)
        return key

    def _remember(self, aggregate_id: UUID, key: str | None) -> str | None:
        self._keys[aggregate_id] = key
        if len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
        return key


# --- what the relay has published, in the store's database ---------------------------------------


@dataclass
class Link:
    """The last event published to one partition: its log position and Kafka offset."""

    position: int
    offset: int


@dataclass
class RelayState:
    topic: str
    position: int = 0  # the last log position published (and acknowledged by the broker)
    partitions: int | None = None  # the partition count the keys were mapped over
    republished: int = 0  # how often the relay started over after the broker lost data
    links: dict[int, Link] = field(default_factory=dict)

    def predecessor(self, partition: int) -> int:
        link = self.links.get(partition)
        return link.position if link else 0


class RelayStore:
    """Two small tables next to the event store: the relay's position per topic and the last
    (position, offset) it published to each partition, written in one transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database
        if database.is_postgres:
            schema = (database.schema or "public").replace('"', '""')
            self.relay_table = f'"{schema}".channel_relay'
            self.link_table = f'"{schema}".channel_relay_partition'
        else:
            self.relay_table, self.link_table = "channel_relay", "channel_relay_partition"
        self._create()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self.database.is_postgres:
            with (psycopg.connect(self.database.conninfo(), connect_timeout=10) as conn,
                  conn.transaction(), conn.cursor() as cursor):
                yield cursor
        else:
            lite = sqlite3.connect(self.database.path, timeout=10, isolation_level=None)
            try:
                lite.execute("BEGIN IMMEDIATE")
                try:
                    yield lite.cursor()
                except BaseException:
                    lite.execute("ROLLBACK")
                    raise
                lite.execute("COMMIT")
            finally:
                lite.close()

    def _sql(self, statement: str) -> str:
        statement = statement.replace("@relay", self.relay_table).replace("@link", self.link_table)
        return statement.replace("?", "%s") if self.database.is_postgres else statement

    def _create(self) -> None:
        for attempt in range(5):
            try:
                self._create_tables()
                return
            except psycopg.errors.UniqueViolation:
                # Another process created them at the same moment (CREATE TABLE IF NOT EXISTS
                # is not safe against that on PostgreSQL): they exist now.
                time.sleep(0.1 * (attempt + 1))
        self._create_tables()

    def _create_tables(self) -> None:
        with self._transaction() as cursor:
            cursor.execute(self._sql(
                "CREATE TABLE IF NOT EXISTS @relay (topic TEXT PRIMARY KEY, position BIGINT NOT "
                "NULL, partitions INTEGER, republished INTEGER NOT NULL DEFAULT 0)"))
            cursor.execute(self._sql(
                "CREATE TABLE IF NOT EXISTS @link (topic TEXT NOT NULL, kafka_partition INTEGER "
                "NOT NULL, position BIGINT NOT NULL, kafka_offset BIGINT NOT NULL, "
                "PRIMARY KEY (topic, kafka_partition))"))

    def load(self, topic: str) -> RelayState:
        with self._transaction() as cursor:
            cursor.execute(self._sql(
                "SELECT position, partitions, republished FROM @relay WHERE topic = ?"), (topic,))
            row = cursor.fetchone()
            if row is None:
                return RelayState(topic)
            cursor.execute(self._sql(
                "SELECT kafka_partition, position, kafka_offset FROM @link WHERE topic = ?"),
                (topic,))
            links = {int(p): Link(int(pos), int(off)) for p, pos, off in cursor.fetchall()}
        return RelayState(topic, int(row[0]), row[1], int(row[2]), links)

    def save(self, state: RelayState, changed: Sequence[int] | None = None) -> None:
        """Record the state; `changed` names the partitions whose link moved (None: all, and
        links not in the state are removed)."""
        with self._transaction() as cursor:
            cursor.execute(self._sql(
                "INSERT INTO @relay (topic, position, partitions, republished) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (topic) DO UPDATE SET position = excluded.position, "
                "partitions = excluded.partitions, republished = excluded.republished"),
                (state.topic, state.position, state.partitions, state.republished))
            if changed is None:
                cursor.execute(self._sql("DELETE FROM @link WHERE topic = ?"), (state.topic,))
                changed = sorted(state.links)
            for p in changed:
                link = state.links[p]
                cursor.execute(self._sql(
                    "INSERT INTO @link (topic, kafka_partition, position, kafka_offset) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (topic, kafka_partition) DO UPDATE SET "
                    "position = excluded.position, kafka_offset = excluded.kafka_offset"),
                    (state.topic, p, link.position, link.offset))


# --- producing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KafkaOptions:
    """How the relay talks to the broker (settings CHANNEL_KAFKA_*)."""

    bootstrap: str
    topic: str
    partitions: int  # for a topic the relay creates
    idempotence: str = "auto"  # "auto" (the client decides from the broker), "on" or "off"
    max_in_flight: int = 1  # bounded (≤ 5); forced to 1 without idempotence, to keep order
    linger_ms: int = 5
    request_timeout_ms: int = 10_000
    client_id: str = "channel-relay"

    def __post_init__(self) -> None:
        if self.idempotence.strip().lower() not in ON | OFF | {"auto"}:
            raise RelayError(f"CHANNEL_KAFKA_IDEMPOTENCE: {self.idempotence!r} is not auto, on "
                             "or off")

    def producer(self) -> KafkaProducer:
        config: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "client_id": self.client_id,
            "acks": "all",
            "linger_ms": self.linger_ms,
            "batch_size": 256 * 1024,
            "request_timeout_ms": self.request_timeout_ms,
            "delivery_timeout_ms": 3 * self.request_timeout_ms,
            "max_block_ms": self.request_timeout_ms,
            "retry_backoff_ms": 200,
            "reconnect_backoff_max_ms": 2000,
            "allow_auto_create_topics": False,
        }
        mode = self.idempotence.strip().lower()
        if mode in OFF:
            config.update(enable_idempotence=False, max_in_flight_requests_per_connection=1)
        else:
            config["max_in_flight_requests_per_connection"] = max(1, min(self.max_in_flight, 5))
            if mode in ON:
                config["enable_idempotence"] = True
        producer = KafkaProducer(**config)
        if not producer.config["enable_idempotence"]:
            # Without idempotence a retried batch could overtake the next: one at a time.
            producer.config["max_in_flight_requests_per_connection"] = 1
        return producer

    def admin(self) -> KafkaAdminClient:
        # bootstrap_timeout_ms defaults to 30 s: a dead broker would hold every check that long.
        return KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=self.client_id,
                                request_timeout_ms=self.request_timeout_ms,
                                bootstrap_timeout_ms=self.request_timeout_ms)

    def reader(self) -> KafkaConsumer:
        return KafkaConsumer(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-check",
                             enable_auto_commit=False, auto_offset_reset="none",
                             allow_auto_create_topics=False,
                             request_timeout_ms=self.request_timeout_ms + 1000,
                             fetch_max_wait_ms=100)


def topic_partitions(options: KafkaOptions) -> int | None:
    """The topic's partition count, None when the broker does not know the topic."""
    admin = options.admin()
    try:
        described = admin.describe_topics([options.topic])
    except UnknownTopicOrPartitionError:
        return None
    finally:
        admin.close()
    for topic in described:
        if topic.get("name", topic.get("topic")) == options.topic and not topic.get("error_code"):
            return len(topic.get("partitions") or []) or None
    return None


def create_topic(options: KafkaOptions, partitions: int) -> None:
    admin = options.admin()
    try:
        admin.create_topics([NewTopic(options.topic, partitions, 1)],
                            timeout_ms=options.request_timeout_ms)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def delete_topic(options: KafkaOptions) -> None:
    admin = options.admin()
    try:
        with suppress(UnknownTopicOrPartitionError):
            admin.delete_topics([options.topic], timeout_ms=options.request_timeout_ms)
    finally:
        admin.close()


# --- the relay ---------------------------------------------------------------------------------


def _backoff(failures: int) -> float:
    """Seconds before the next attempt: doubling from 0.2 s up to 5 s, jittered."""
    return min(5.0, 0.1 * 2 ** min(failures, 6)) * random.uniform(0.5, 1.0)



class Relay:
    """Publishes the store's notification log to Kafka, in order, at least once.

    `app` is the write side's application (its recorder and mapper read the log). A batch is
    published, flushed and acknowledged before its last position is recorded, so a crash
    republishes (never skips) and consumers drop the duplicates by position.
    """

    def __init__(self, app: Any, database: Database, options: KafkaOptions, *,
                 batch_size: int = 500, idle_seconds: float = 1.0, verify_seconds: float = 5.0,
                 codec: Codec | None = None) -> None:
        self.app = app
        self.options = options
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.verify_seconds = verify_seconds
        self.codec = codec or Codec()
        self.store = RelayStore(database)
        self.database = database
        self.keys = PartitionKeys(self._first_event)
        self.state = self.store.load(options.topic)
        self.producer: KafkaProducer | None = None
        self.stopping = threading.Event()
        self._verified_at = 0.0
        self._needs_check = True  # the topic and what it holds are checked before publishing
        self.published = 0  # messages acknowledged in this process (a broadcast counts N)

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
        """Publish the next batch of the log; returns how many events it held."""
        notifications = self.app.recorder.select_notifications(
            start=self.state.position + 1, limit=self.batch_size)
        if not notifications:
            return 0
        self.publish(notifications)
        return len(notifications)

    def publish(self, notifications: Sequence[Notification]) -> None:
        assert self.state.partitions is not None, "check_topic() first"
        if self.producer is None:
            self.producer = self.options.producer()
        partitions = self.state.partitions
        links = {p: Link(link.position, link.offset) for p, link in self.state.links.items()}
        sent: list[tuple[int, Any]] = []
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            key = self.keys.key_for(event)
            targets = range(partitions) if key is None else (partition_for(key, partitions),)
            for p in targets:
                value = self.codec.encode(event, position=notification.id,
                                          predecessor=links[p].position if p in links else 0,
                                          partitionkey=key)
                future = self.producer.send(self.options.topic, value=value,
                                            key=None if key is None else key.encode(),
                                            partition=p, headers=HEADERS)
                links[p] = Link(notification.id, -1)
                sent.append((p, future))
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
        self.state.position = notifications[-1].id
        self.state.links = links
        self.store.save(self.state, changed=sorted(first))
        self.published += len(sent)

    # --- the broker's side ----------------------------------------------------------------

    def check_topic(self) -> None:
        """Make sure the topic exists with the partitions the keys are mapped over, and still
        holds the last message the relay published to each partition."""
        state = self.state
        actual = topic_partitions(self.options)
        if actual is None:
            wanted = state.partitions or self.options.partitions
            log.info("relay: creating topic %s with %d partitions", self.options.topic, wanted)
            create_topic(self.options, wanted)
            if state.position > 0:
                raise BrokerLostData(f"topic {self.options.topic} was gone")
            actual = topic_partitions(self.options)
            if actual is None:
                raise UnknownTopicOrPartitionError(f"topic {self.options.topic} not visible yet")
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
