"""Kafka: relay throughput (store → topic) and end-to-end lag (command commit → reporting row),
next to kafka-python's raw produce rate and round trip on the same broker, in the same run."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from psycopg import sql

from bench.bench_projections import ITEMS, dealers, orders
from bench.common import Rate, postgres_base_url, print_comparison, scratch_schema, server_version
from infra.envelope import Codec
from infra.heap import freeze_long_lived
from infra.persistence import parse_database_url
from infra.relay import HEADERS, KafkaOptions, partition_for
from infra.settings import Settings
from services.bootstrap import (
    build_application,
    build_consumer,
    build_relay,
    relay_application,
    reporting_view,
)
from services.consumer import (
    ConsumerOptions,
    partition_name,
    reporting_positions,
)
from services.consumer.state import MAX_POLL_RECORDS
from tests.support import kill_with_parent
from tests.support.kafka import broker_from_environment, create_topic, unique_topic_name
from tests.support.postgres import connect

ROOT = Path(__file__).resolve().parent.parent
EVENTS, DEALERS, PARTITIONS = 20_000, 60, 6  # the default size
GOAL = ">= 0.7"  # relay and consumer at 0.7 of kafka-python's raw rates


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def lag_line(name: str, lags: list[float]) -> str:
    ms = [x * 1000 for x in lags]
    return (f"{name:<44} p50 {percentile(ms, 0.5):>7.1f} ms  p99 {percentile(ms, 0.99):>7.1f} ms"
            f"  (n={len(ms)}, mean {statistics.fmean(ms):.1f} ms)")


def relay_throughput(store_url: str, options: KafkaOptions, head: int
                     ) -> tuple[Rate, Rate, int, float]:
    """The relay of the composition root through the whole log, into a topic made beforehand (as
    raw produce's is); timed from its run's start (its producer made, the topic checked) to the
    last acknowledgement. Its encoder process is started before, as a process is: its start-up
    (the seconds returned) is not a rate."""
    settings = Settings().with_database(store_url)
    app = relay_application(settings)
    relay = build_relay(settings, app=app, options=options)  # the composition root's relay
    try:
        started = time.perf_counter()
        if relay.encoder is not None:
            relay.encoder.start()
        startup = time.perf_counter() - started
        start = time.perf_counter()
        relay.run(until=head)
        seconds = time.perf_counter() - start
    finally:
        relay.close()
        app.close()
    return (Rate("relay: log → Kafka (events)", head, seconds),
            Rate("relay: log → Kafka (messages, broadcasts ×N)", relay.published, seconds),
            relay.published, startup)


def message_size(store_url: str, sample: int = 2000) -> int:
    """The mean size of the relay's messages, from a sample of the log."""
    app = build_application(Settings().with_database(store_url))
    codec = Codec()
    try:
        notes = app.recorder.select_notifications(start=1, limit=sample)
        sizes = [len(codec.encode(app.mapper.to_domain_event(n), position=n.id, predecessor=0,
                                  partitionkey="0f4c9a7e-3d1b-4c2e-9a55-1b2c3d4e5f60"))
                 for n in notes]
    finally:
        app.close()
    return int(statistics.fmean(sizes))


def raw_produce(options: KafkaOptions, topic: str, count: int, size: int) -> Rate:
    """kafka-python alone, with the relay's producer settings, keys and header: `count` messages
    of `size` bytes, timed (as the relay) from making its producer to the last
    acknowledgement."""
    start = time.perf_counter()
    producer = options.producer()
    value = b"x" * size
    try:
        # The relay's keys are dealer ids (36 bytes); its one header, the content type.
        keys = [str(uuid.uuid4()).encode() for _ in range(997)]
        futures = [producer.send(topic, value=value, key=keys[i % 997], headers=HEADERS,
                                 partition=i % options.partitions) for i in range(count)]
        producer.flush()
        for future in futures:
            future.get(timeout=0)
        seconds = time.perf_counter() - start
    finally:
        producer.close()
    return Rate("kafka-python raw produce, acks=all (messages)", count, seconds)


def consumer_throughput(reporting_url: str, options: ConsumerOptions, published: dict[int, int],
                        events: int) -> Rate:
    """A reporting consumer on every partition (no group) through the backlog, timed from its
    run's start (its Kafka client made) to its last commit. What a consumer process does once,
    before its first poll, is done before the timing: the heap it starts with frozen out of the
    collector's walks (infra/heap.py), as the relay's encoder process is started before its."""
    settings = Settings().with_database(reporting_url)
    view = reporting_view(settings, reporting_url)
    consumer = build_consumer(settings, view, options)  # the composition root's consumer
    freeze_long_lived()
    thread = threading.Thread(target=consumer.run, args=(sorted(published),), daemon=True)

    def behind() -> bool:  # by what the consumer holds: no query while it works
        held = {tp.partition: state.position for tp, state in list(consumer.partitions.items())}
        return any(held.get(p, 0) < pos for p, pos in published.items())

    start = time.perf_counter()
    thread.start()
    while behind():
        time.sleep(0.01)
    # Then by its commits (the reporting tables' tracking), as raw consume counts its own.
    while any(reporting_positions(view, options.topic, len(published)).get(p, 0) < pos
              for p, pos in published.items()):
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    consumer.stop()
    thread.join()
    view.datastore.close()
    return Rate("consumer: Kafka → reporting tables (events)", events, seconds)


def raw_consume_insert(bootstrap: str, topic: str, partitions: int, count: int,
                       reporting_url: str) -> Rate:
    """kafka-python alone into PostgreSQL: the same topic's `count` messages read from every
    partition (as many records a poll as the consumer) and inserted, one transaction per poll
    with an `executemany` of its records (partition, offset, value); timed, as the consumer, from
    making its Kafka client to its last commit."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    with connect(reporting_url, autocommit=False) as conn:
        conn.execute("CREATE TABLE bench_raw_consumed (kafka_partition integer, kafka_offset "
                     "bigint, value bytea, PRIMARY KEY (kafka_partition, kafka_offset))")
        conn.commit()
        start = time.perf_counter()
        reader = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                               fetch_max_wait_ms=100, max_poll_records=MAX_POLL_RECORDS)
        try:
            reader.assign(tps)
            reader.seek_to_beginning(*tps)
            seen = 0
            while seen < count:
                rows = [(r.partition, r.offset, r.value)
                        for records in reader.poll(timeout_ms=500).values() for r in records]
                if rows:
                    with conn.cursor() as cursor:
                        cursor.executemany("INSERT INTO bench_raw_consumed VALUES (%s, %s, %s)",
                                           rows)
                    conn.commit()
                    seen += len(rows)
            seconds = time.perf_counter() - start
        finally:
            reader.close()
            conn.execute("DROP TABLE IF EXISTS bench_raw_consumed")
            conn.commit()
    return Rate("kafka-python raw consume + insert (messages)", count, seconds)


def fill_store(store_url: str, events: int, dealer_count: int) -> int:
    """A store of `events` events (orders of `dealer_count` dealers); returns its head."""
    app = build_application(Settings().with_database(store_url))
    try:
        app.publish_price_list(date(2026, 3, 1), ITEMS)
        orders(app, events, dealers(app, dealer_count))
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


@dataclass(frozen=True)
class Throughput:
    relay: Rate  # events
    relay_messages: Rate
    raw_produce: Rate
    consumer: Rate  # events
    raw_consume: Rate
    size: int
    relay_startup: float  # seconds: its encoder process started, before the timing


def throughput(bootstrap: str, store_url: str, reporting_url: str, head: int,
               partitions: int) -> tuple[Throughput, str]:
    """The relay and the consumer through the whole log, each next to kafka-python's raw rate on
    the same broker in the same run; returns the figures and the relay's topic."""
    topic = unique_topic_name("bench-events")
    create_topic(bootstrap, topic, partitions)
    options = KafkaOptions(bootstrap=bootstrap, topic=topic, partitions=partitions)
    events, messages, count, startup = relay_throughput(store_url, options, head)
    size = message_size(store_url)
    raw_topic = unique_topic_name("bench-raw")
    create_topic(bootstrap, raw_topic, partitions)
    raw = raw_produce(options, raw_topic, count, size)
    published = _published(store_url, topic)
    consumer_options = ConsumerOptions(bootstrap=bootstrap, topic=topic, group=f"bench-{topic}",
                                       dead_letter_topic=f"{topic}.dlt")
    consumed = consumer_throughput(reporting_url, consumer_options, published, head)
    raw_consumed = raw_consume_insert(bootstrap, topic, partitions, count, reporting_url)
    return Throughput(events, messages, raw, consumed, raw_consumed, size, startup), topic


def _figure(name: str, value: Rate, baseline: Rate) -> dict[str, Any]:
    return {"figure": name, "value": value.per_second, "unit": "events/s",
            "baseline": baseline.per_second, "ratio": value.per_second / baseline.per_second,
            "goal": GOAL}


def figures(quick: bool = False) -> list[dict[str, Any]]:
    """The relay and consumer figures for `make bench`'s summary (issue 12): events/s, each next
    to kafka-python's raw rate (produce; consume + insert into PostgreSQL) on the same broker in
    the same run. `quick`: a log of 5,000 events instead of 20,000."""
    broker = broker_from_environment()
    try:
        with (postgres_base_url(None) as base,
              scratch_schema(base, "benchkafka") as store_url,
              scratch_schema(base, "benchreport") as reporting_url):
            head = fill_store(store_url, 5_000 if quick else EVENTS, DEALERS)
            measured, _ = throughput(broker.bootstrap, store_url, reporting_url, head, PARTITIONS)
    finally:
        broker.close()
    return [_figure("relay", measured.relay, measured.raw_produce),
            _figure("consumer", measured.consumer, measured.raw_consume)]


def raw_round_trip(options: KafkaOptions, topic: str, count: int, rate: float) -> list[float]:
    """kafka-python alone: produce (acks=all) → a consumer's poll, one message at a time."""
    received: dict[int, float] = {}
    reader = KafkaConsumer(bootstrap_servers=options.bootstrap, enable_auto_commit=False,
                           fetch_max_wait_ms=100)
    tps = [TopicPartition(topic, p) for p in range(options.partitions)]
    reader.assign(tps)
    reader.seek_to_beginning(*tps)  # a fresh topic (tansu's end offsets are not to be trusted)
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for records in reader.poll(timeout_ms=100).values():
                now = time.monotonic()
                for r in records:
                    received.setdefault(int(r.value), now)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    producer = options.producer()
    sent: dict[int, float] = {}
    for i in range(count):
        producer.send(topic, value=str(i).encode(), partition=i % options.partitions).get(10)
        sent[i] = time.monotonic()
        time.sleep(1 / rate)
    deadline = time.monotonic() + 30
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join()
    producer.close()
    reader.close()
    return [received[i] - sent[i] for i in sent if i in received]


def channel(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.cli", command], cwd=ROOT,
                                env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=kill_with_parent())


def end_to_end_lag(store_url: str, reporting_url: str, topic: str, partitions: int,
                   commands: int, rate: float, wait: float = 60) -> list[float]:
    """`commands` dealer registrations at `rate`/s while `channel relay` and `channel consume`
    run as processes: the time from each command's commit until its row's transaction (the
    partition's tracking reaching the command's position) is visible in the reporting database."""
    app = build_application(Settings().with_database(store_url))
    tracking = {partition_name(topic, p): p for p in range(partitions)}
    reached = dict.fromkeys(range(partitions), 0)
    pending: list[tuple[int, int, float]] = []  # (partition, position, commit time)
    lags: list[float] = []
    lock, stop = threading.Lock(), threading.Event()

    def watch() -> None:
        schema = parse_database_url(reporting_url).schema or "public"
        with connect(reporting_url, autocommit=True) as conn:
            while not stop.is_set():
                rows = conn.execute(
                    sql.SQL("SELECT application_name, notification_id FROM {} "
                            "WHERE application_name = ANY(%s)").format(
                        sql.Identifier(schema, "channelreadmodel_tracking")),
                    (list(tracking),)).fetchall()
                now = time.monotonic()
                with lock:
                    for name, position in rows:
                        reached[tracking[name]] = int(position)
                    for item in list(pending):
                        if reached[item[0]] >= item[1]:
                            lags.append(now - item[2])
                            pending.remove(item)
                time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for i in range(commands):
            began = time.monotonic()
            done = app.register_dealer(f"lag-{i}-{time.monotonic_ns()}", "east", "SI", "sp-lag",
                                       "c", date(2026, 3, 2))
            committed = time.monotonic()
            assert done.position is not None
            with lock:
                pending.append((partition_for(str(done.value.id), partitions), done.position,
                                committed))
            time.sleep(max(0.0, 1 / rate - (time.monotonic() - began)))
        deadline = time.monotonic() + wait
        while pending and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        watcher.join()
        app.close()
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=EVENTS, help="events in the log")
    parser.add_argument("--dealers", type=int, default=DEALERS)
    parser.add_argument("--partitions", type=int, default=PARTITIONS)
    parser.add_argument("--commands", type=int, default=300, help="commands timed for the lag")
    parser.add_argument("--rate", type=float, default=25.0, help="commands per second")
    parser.add_argument("--database", help="a PostgreSQL base URL (default: as the tests find it)")
    args = parser.parse_args()

    broker = broker_from_environment()
    try:
        with (postgres_base_url(args.database) as base,
              scratch_schema(base, "benchkafka") as store_url,
              scratch_schema(base, "benchreport") as reporting_url):
            started = time.perf_counter()
            head = fill_store(store_url, args.events, args.dealers)
            kind = "tansu (memory)" if broker.managed else f"external {broker.bootstrap}"
            print(f"PostgreSQL {server_version(store_url)}; broker {kind}; {head:,} stored events "
                  f"written in {time.perf_counter() - started:.0f} s; {args.partitions} partitions"
                  "\n")

            measured, topic = throughput(broker.bootstrap, store_url, reporting_url, head,
                                         args.partitions)
            options = KafkaOptions(bootstrap=broker.bootstrap, topic=topic,
                                   partitions=args.partitions)
            print(f"(messages of {measured.size} bytes on average; the relay's encoder process "
                  f"started in {measured.relay_startup:.2f} s, before the timing)")
            print_comparison(measured.relay, measured.raw_produce,
                             label="relay events ÷ raw produce")
            print(measured.relay_messages.line())
            print(f"{'relay messages ÷ raw produce':<44} "
                  f"{measured.relay_messages.per_second / measured.raw_produce.per_second:>10.3f}\n")
            print_comparison(measured.consumer, measured.raw_consume,
                             label="consumer events ÷ raw consume + insert")
            print()

            trip_topic = unique_topic_name("bench-trip")
            create_topic(broker.bootstrap, trip_topic, args.partitions)
            round_trip = raw_round_trip(options, trip_topic, args.commands, args.rate)
            env = {
                "CHANNEL_DATABASE_URL": store_url,
                "CHANNEL_REPORTING_DATABASE_URL": reporting_url,
                "CHANNEL_KAFKA_BOOTSTRAP": broker.bootstrap,
                "CHANNEL_KAFKA_TOPIC": topic,
                "CHANNEL_KAFKA_GROUP": f"bench-lag-{topic}",
                "CHANNEL_KAFKA_DEAD_LETTER_TOPIC": f"{topic}.dlt",
            }
            logs = Path(broker.log_dir or ROOT / "var")
            processes = [channel("relay", env, logs / "bench-relay.log"),
                         channel("consume", env, logs / "bench-consume.log")]
            try:
                # A first command, untimed: until it arrives the group is still forming.
                end_to_end_lag(store_url, reporting_url, topic, args.partitions, 1, args.rate,
                               wait=90)
                lags = end_to_end_lag(store_url, reporting_url, topic, args.partitions,
                                      args.commands, args.rate)
            finally:
                for process in processes:
                    process.terminate()
                    process.wait(timeout=20)
            print(f"end-to-end lag at {args.rate:g} commands/s "
                  "(command commit → reporting row; relay and consumer processes)")
            print(lag_line("command commit → reporting row", lags))
            print(lag_line("kafka-python raw produce → poll", round_trip))
            print(f"{'lag p50 ÷ raw round trip p50':<44} "
                  f"{percentile(lags, 0.5) / percentile(round_trip, 0.5):>10.2f}")
    finally:
        broker.close()


def _published(store_url: str, topic: str) -> dict[int, int]:
    from infra.relay import read_relay_state

    state = read_relay_state(parse_database_url(store_url), topic)
    return {p: link.position for p, link in state.links.items()}


if __name__ == "__main__":
    main()
