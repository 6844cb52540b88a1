"""The test servers work: PostgreSQL schemas, and a Kafka-protocol broker."""

from __future__ import annotations

import contextlib
import socket
import time
from collections import defaultdict
from urllib.parse import urlsplit

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from tests.support import unavailable
from tests.support.kafka import (
    Broker,
    BrokerUnavailable,
    create_topic,
    find_tansu,
    list_topics,
    unique_topic_name,
)
from tests.support.postgres import (
    PostgresUnavailable,
    ThrowawayPostgres,
    connect,
    eventsourcing_env,
    isolated_schema,
    postgres_bindir,
    split_schema,
)

# tansu 0.6.0 answers JoinGroup after about session_timeout_ms / 2 (kafka-python 3's default
# session is 45 s, so ~23 s): a short session keeps a group's first assignment to ~3 s.
GROUP_SETTINGS = {"max_poll_interval_ms": 5000, "session_timeout_ms": 6000,
                  "heartbeat_interval_ms": 1000}


def _schema_exists(base: str, schema: str) -> bool:
    with psycopg.connect(base) as conn:
        row = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s",
                           (schema,)).fetchone()
    return row is not None and row[0] == 1


# PostgreSQL


@pytest.mark.timeout(30)
def test_pg_url_names_a_fresh_schema_usable_for_tables(postgres_server: str, pg_url: str) -> None:
    assert urlsplit(postgres_server).query == ""
    conninfo, schema = split_schema(pg_url)
    assert conninfo == postgres_server
    assert schema and pg_url == f"{postgres_server}?schema={schema}"
    assert eventsourcing_env(pg_url)["POSTGRES_SCHEMA"] == schema

    with connect(pg_url) as conn:
        conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount numeric NOT NULL)")
        conn.execute("INSERT INTO ledger VALUES (1, 12000.00), (2, 0.50)")
    with connect(pg_url) as conn:
        rows = conn.execute("SELECT id, amount::text FROM ledger ORDER BY id").fetchall()
        where = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'ledger'"
        ).fetchall()
    assert rows == [(1, "12000.00"), (2, "0.50")]
    assert where == [(schema,)]


@pytest.mark.timeout(30)
def test_isolated_schema_is_dropped_with_its_tables(postgres_server: str) -> None:
    with isolated_schema(postgres_server) as url:
        schema = split_schema(url)[1]
        assert schema is not None
        with connect(url) as conn:
            conn.execute("CREATE TABLE t (x int)")
        assert _schema_exists(postgres_server, schema)
    assert not _schema_exists(postgres_server, schema)


@pytest.mark.timeout(60)
def test_throwaway_server_starts_and_stops() -> None:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries for a throwaway server")
    try:
        server = ThrowawayPostgres(bindir)
    except PostgresUnavailable as exc:
        unavailable(str(exc))
    try:
        with isolated_schema(server.url) as url, connect(url) as conn:
            assert conn.execute("SELECT current_schema()").fetchone() == (split_schema(url)[1],)
    finally:
        server.stop()
    assert server.process is not None and server.process.poll() is not None
    assert not server.directory.exists()


# Kafka


def _produce(bootstrap: str, topic: str, count: int, **settings: object) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings)
    try:
        futures = [producer.send(topic, key=f"dealer-{i % 7}".encode(), value=str(i).encode())
                   for i in range(count)]
        producer.flush(timeout=15)
        for future in futures:
            future.get(timeout=15)
    finally:
        producer.close(timeout=5)


def _read_all(bootstrap: str, topic: str, expected: int) -> list[ConsumerRecord]:
    """Read partitions 0-2 from offset 0 by assign() + seek until `expected` records came.

    Counting records, not end_offsets(): tansu 0.6.0 answers ListOffsets(latest) wrongly.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in range(3)]
    consumer.assign(partitions)
    for tp in partitions:
        consumer.seek(tp, 0)
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + 15
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


@pytest.mark.timeout(30)
def test_produce_acks_all_and_read_back_by_assign_and_seek(
    kafka_bootstrap: str, kafka_topic: str
) -> None:
    _produce(kafka_bootstrap, kafka_topic, 100, acks="all", linger_ms=5)

    records = _read_all(kafka_bootstrap, kafka_topic, 100)
    assert sorted(int(r.value) for r in records) == list(range(100))
    offsets: dict[int, list[int]] = defaultdict(list)
    partition_of_key: dict[bytes, set[int]] = defaultdict(set)
    values_of_key: dict[bytes, list[int]] = defaultdict(list)
    for r in records:
        offsets[r.partition].append(r.offset)
        partition_of_key[r.key].add(r.partition)
        values_of_key[r.key].append(int(r.value))
    assert all(found == list(range(len(found))) for found in offsets.values())
    assert all(len(ps) == 1 for ps in partition_of_key.values())  # a key stays on one partition
    assert all(vs == sorted(vs) for vs in values_of_key.values())  # in order per key
    assert len(offsets) > 1  # seven keys spread over several partitions


@pytest.mark.timeout(30)
def test_idempotent_producer_is_accepted(kafka_bootstrap: str, kafka_topic: str) -> None:
    _produce(kafka_bootstrap, kafka_topic, 20, acks="all", enable_idempotence=True,
             max_in_flight_requests_per_connection=1)
    assert sorted(int(r.value) for r in _read_all(kafka_bootstrap, kafka_topic, 20)) == list(
        range(20)
    )


@pytest.mark.timeout(45)
def test_two_group_members_share_the_partitions(kafka_broker: Broker) -> None:
    """On a broker of its own: the session's broker carries the groups of every earlier test, and
    its join rounds then take longer than this test may."""
    with contextlib.ExitStack() as stack:
        own = Broker().start()
        stack.callback(own.close)
        kafka_topic = unique_topic_name("two-members")
        create_topic(own.bootstrap, kafka_topic, partitions=3)
        _two_members_share(own.bootstrap, kafka_topic)


def _two_members_share(kafka_bootstrap: str, kafka_topic: str) -> None:
    group = f"group-{kafka_topic}"
    members = [
        KafkaConsumer(kafka_topic, bootstrap_servers=kafka_bootstrap, group_id=group,
                      client_id=f"member-{i}", auto_offset_reset="earliest",
                      enable_auto_commit=False, **GROUP_SETTINGS)
        for i in range(2)
    ]
    received: dict[int, list[tuple[int, int]]] = {0: [], 1: []}

    def poll_all() -> None:
        for i, member in enumerate(members):
            for batch in member.poll(timeout_ms=100).values():
                received[i].extend((r.partition, int(r.value)) for r in batch)

    try:
        began = time.monotonic()
        while not all(m.assignment() for m in members):
            # A bound, not a timing check: a loaded machine makes the broker's join rounds slow.
            assert time.monotonic() - began < 120, "the group did not settle in 120 s"
            poll_all()
        assignments = [{tp.partition for tp in m.assignment()} for m in members]
        assert assignments[0].isdisjoint(assignments[1])
        assert assignments[0] | assignments[1] == {0, 1, 2}

        _produce(kafka_bootstrap, kafka_topic, 100, acks="all")
        deadline = time.monotonic() + 60
        while sum(map(len, received.values())) < 100 and time.monotonic() < deadline:
            poll_all()
        for i in (0, 1):
            assert received[i], f"member {i} received nothing"
            assert {p for p, _ in received[i]} <= assignments[i]
        values = sorted(v for i in (0, 1) for _, v in received[i])
        assert values == list(range(100))  # each record went to exactly one member
        for member in members:
            member.commit()
            assert all(member.committed(tp) is not None for tp in member.assignment())
    finally:
        for member in members:
            member.close()


@pytest.mark.timeout(30)
def test_broker_restart_answers_again_and_forgets_topics(
    kafka_broker: Broker, kafka_topic: str
) -> None:
    if not kafka_broker.restartable:
        pytest.skip(f"{kafka_broker} is external: it cannot be restarted from the tests")
    assert kafka_topic in list_topics(kafka_broker.bootstrap)
    host, _, port = kafka_broker.bootstrap.rpartition(":")
    try:
        kafka_broker.stop()
        assert not kafka_broker.running
        with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=1):
            pass
    finally:
        kafka_broker.start()  # the session's broker must be left running
    assert kafka_broker.bootstrap == f"{host}:{port}"
    assert kafka_topic not in list_topics(kafka_broker.bootstrap)  # memory storage


@pytest.mark.timeout(30)
def test_managed_broker_as_context_manager() -> None:
    try:
        binary = find_tansu()
    except BrokerUnavailable as exc:
        unavailable(str(exc))
    with Broker(binary=binary) as broker:
        assert broker.running and list_topics(broker.bootstrap) == []
        process, log_dir = broker.process, broker.log_dir
    assert process is not None and process.poll() is not None
    assert log_dir is not None and not log_dir.exists()
