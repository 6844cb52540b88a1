"""The reporting consumer on a real broker and PostgreSQL: offsets stored with the rows, Kafka's
commits only a hint, duplicates and replays change nothing, a poison message is dead-lettered,
a consumer killed mid-batch counts nothing twice, an event for all dealers is applied once; a
message that decodes but cannot be applied stops its partition (no dead letter), an undecodable
one leaves a hole that is reported until resolved."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from domain.values import Month
from infra.persistence import parse_database_url
from infra.relay import KafkaOptions, Relay
from projections import faults
from services.consumer import (
    ConsumerOptions,
    ReportingConsumer,
    ReportingStatus,
    open_reporting_view,
    partition_name,
    partition_prefix,
    reporting_positions,
    reporting_status,
)
from tests.builders import app_for_url
from tests.integration.audit_helpers import run_channel
from tests.integration.kafka_scenario import (
    Deployment,
    Message,
    Scenario,
    connection,
    month_of_business,
    read_topic,
    reporting_tables,
    wait_for,
)
from tests.support.faults import failing_handler
from tests.support.kafka import (
    Broker,
    create_topic,
    delete_topic,
    list_topics,
    unique_topic_name,
)

pytestmark = pytest.mark.usefixtures("small_pools")




@pytest.fixture
def business(deployment: Deployment) -> Iterator[Scenario]:
    with month_of_business(deployment.store_url, dealers=5, orders=2) as made:
        yield made


def publish(deployment: Deployment, topic: str | None = None) -> Relay:
    """Publish the whole log with an in-process relay."""
    relay = Relay(app_for_url(deployment.store_url), parse_database_url(deployment.store_url),
                  KafkaOptions(bootstrap=deployment.bootstrap, topic=topic or deployment.topic,
                               partitions=3))
    try:
        relay.run(until=relay.app.recorder.max_notification_id() or 0)
    finally:
        relay.close()
        relay.app.close()
    return relay


class Running:
    """A ReportingConsumer on a thread (group member, or on the given partitions alone)."""

    def __init__(self, deployment: Deployment, *, partitions: list[int] | None = None,
                 topic: str | None = None) -> None:
        self.view = open_reporting_view(deployment.reporting_url)
        options = ConsumerOptions(bootstrap=deployment.bootstrap,
                                  topic=topic or deployment.topic, group=deployment.group,
                                  dead_letter_topic=deployment.dead_letter_topic)
        self.consumer = ReportingConsumer(self.view, options)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(partitions,), daemon=True)
        self.thread.start()

    def _run(self, partitions: list[int] | None) -> None:
        try:
            self.consumer.run(partitions)
        except BaseException as e:  # surfaced by stop()
            self.error = e

    def stop(self) -> None:
        self.consumer.stop()
        self.thread.join(timeout=30)
        self.view.datastore.close()
        if self.error is not None:
            raise self.error


@pytest.fixture
def running(deployment: Deployment) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(**kwargs: Any) -> Running:
        started.append(Running(deployment, **kwargs))
        return started[-1]

    yield start
    for consumer in started:
        consumer.stop()


def test_each_partitions_offset_is_stored_with_its_rows_and_a_restart_seeks_there(
    deployment: Deployment, business: Scenario, running: Callable[..., Running],
) -> None:
    publish(deployment)
    first = running()
    wait_for(deployment.consumed_all, "the consumer applies every partition")
    first.stop()
    topic = read_topic(deployment.bootstrap, deployment.topic)
    with connection(deployment.reporting_url) as conn:
        stored = dict(conn.execute(
            "SELECT kafka_partition, next_offset FROM channel_consumer_offsets WHERE topic = %s",
            (deployment.topic,)).fetchall())
    assert stored == {p: messages[-1].offset + 1 for p, messages in topic.items()}

    business.month(Month(2026, 2), orders=1, close=True)
    publish(deployment)
    second = running()
    wait_for(deployment.consumed_all, "the restarted consumer applies the new events")
    assert second.consumer.counters.duplicates == 0  # it started where the rows end
    assert second.consumer.counters.applied > 0
    assert reporting_tables(deployment.reporting_url) == business.in_process_tables()


def test_the_groups_committed_offsets_are_only_a_hint_the_reporting_database_decides(
    deployment: Deployment, business: Scenario, running: Callable[..., Running],
) -> None:
    publish(deployment)
    # Someone committed the group's offsets at the end of every partition: were they trusted,
    # the empty reporting database would stay empty.
    topic = read_topic(deployment.bootstrap, deployment.topic)
    committer = KafkaConsumer(bootstrap_servers=deployment.bootstrap, group_id=deployment.group,
                              enable_auto_commit=False)
    committer.commit({TopicPartition(deployment.topic, p): OffsetAndMetadata(
        messages[-1].offset + 1, "", -1) for p, messages in topic.items()})
    committer.close()

    running()
    wait_for(deployment.consumed_all, "the consumer applies every partition")
    assert reporting_tables(deployment.reporting_url) == business.in_process_tables()


def test_duplicated_and_replayed_messages_change_nothing(
    deployment: Deployment, business: Scenario, running: Callable[..., Running],
) -> None:
    relay = publish(deployment)
    consumer = running()
    wait_for(deployment.consumed_all, "the consumer applies every partition")
    applied = consumer.consumer.counters.applied
    before = reporting_tables(deployment.reporting_url)

    relay.start_over("the test republishes everything")  # every message a second time
    again = publish(deployment)
    wait_for(lambda: consumer.consumer.counters.duplicates >= again.published,
             "the consumer reads the republished messages")
    assert consumer.consumer.counters.applied == applied
    assert reporting_tables(deployment.reporting_url) == before == business.in_process_tables()


def test_two_consumers_of_one_reporting_database_apply_an_event_for_all_dealers_once(
    deployment: Deployment, business: Scenario, running: Callable[..., Running],
) -> None:
    publish(deployment)
    one, other = running(partitions=[0]), running(partitions=[1, 2])
    wait_for(deployment.consumed_all, "the two consumers apply every partition")

    topic = read_topic(deployment.bootstrap, deployment.topic)
    broadcast = {m.envelope.position for m in topic[0] if m.envelope and m.envelope.broadcast}
    assert len(broadcast) >= 3  # price list, calendar, close, seal
    counts = one.consumer.counters, other.consumer.counters
    assert counts[0].broadcast_applied + counts[1].broadcast_applied == len(broadcast)
    assert reporting_tables(deployment.reporting_url) == business.in_process_tables()


def test_a_poison_message_is_dead_lettered_with_a_log_line_naming_it_and_the_rest_processed(
    deployment: Deployment, business: Scenario, running: Callable[..., Running],
    caplog: pytest.LogCaptureFixture,
) -> None:
    publish(deployment)
    producer = KafkaProducer(bootstrap_servers=deployment.bootstrap, acks="all")
    poisons = [producer.send(deployment.topic, value=value, key=b"x", partition=p).get(10)
               for p, value in ((0, b"{not json"), (1, b'{"specversion": "1.0"}'))]
    producer.close()
    business.month(Month(2026, 2), orders=1, close=True)  # valid messages after the poison
    publish(deployment)

    with caplog.at_level("ERROR", logger="channel.consume"):
        consumer = running()
        wait_for(deployment.consumed_all, "the consumer applies every partition")
    assert reporting_tables(deployment.reporting_url) == business.in_process_tables()
    assert consumer.consumer.counters.dead_lettered == 2
    for poison in poisons:
        named = f"{deployment.topic}[{poison.partition}]@{poison.offset}"
        assert any(named in r.getMessage() and deployment.dead_letter_topic in r.getMessage()
                   for r in caplog.records), caplog.text

    dead = read_topic(deployment.bootstrap, deployment.dead_letter_topic, partitions=1)[0]
    assert sorted(m.value for m in dead) == sorted([b"{not json", b'{"specversion": "1.0"}'])
    # The relay's messages after each poison continue its log: no event is missing, and the
    # holes the poisons might have left are resolved by that.
    assert status(deployment).holes == []
    every = faults.holes(consumer.view, partition_prefix(deployment.topic), unresolved=False)
    assert sorted((h.feed, h.kafka_offset) for h in every) == sorted(
        (partition_name(deployment.topic, p.partition), p.offset) for p in poisons)
    assert all((h.resolution or "").startswith("no event missing") for h in every)


def status(deployment: Deployment, topic: str | None = None) -> ReportingStatus:
    view = open_reporting_view(deployment.reporting_url)
    try:
        return reporting_status(view, topic or deployment.topic)
    finally:
        view.datastore.close()


def consume_status(capsys: Any, deployment: Deployment, topic: str, *more: str) -> tuple[int, str]:
    code, out, err = run_channel(capsys, "consume", "--reporting-database", deployment.reporting_url,
                                 "--topic", topic, *more)
    return code, out + err


def test_a_message_that_decodes_but_cannot_be_applied_stops_its_partition_and_a_restart_resumes(
    deployment: Deployment, business: Scenario, running: Callable[..., Running],
    monkeypatch: pytest.MonkeyPatch, capsys: Any,
) -> None:
    publish(deployment)
    topic = read_topic(deployment.bootstrap, deployment.topic)
    # The month's one return: an event of one dealer, so of one partition.
    (culprit,) = [m for ms in topic.values() for m in ms
                  if m.envelope is not None and m.envelope.type.qualname == "Order.Returned"]
    assert culprit.envelope is not None
    before = [m.envelope.position for m in topic[culprit.partition]
              if m.envelope is not None and m.offset < culprit.offset]
    # Only that one: the store's own read model, kept in this process too, applies the others.
    failing_handler(monkeypatch, "Order.Returned", "cannot read this return",
                    position=culprit.envelope.position)

    consumer = running()
    wait_for(lambda: bool(status(deployment).stopped), "the partition stops at the return")
    (fault,) = status(deployment).stopped
    assert fault.feed == partition_name(deployment.topic, culprit.partition)
    assert (fault.position, fault.kafka_offset) == (culprit.envelope.position, culprit.offset)
    assert (fault.event_type, fault.reason) == ("Order.Returned", "ValueError: cannot read this return")
    others = [p for p in topic if p != culprit.partition]

    def others_consumed() -> bool:
        published, reached = deployment.published_positions(), deployment.reporting_positions()
        return all(reached[p] >= published[p] for p in others)

    wait_for(others_consumed, "the other partitions go on")
    # Stopped right before it: what precedes it applied, its offset the next to read, nothing
    # dead-lettered.
    assert deployment.reporting_positions()[culprit.partition] == max(before)
    assert status(deployment).partitions[culprit.partition][1] == culprit.offset
    assert consumer.consumer.counters.dead_lettered == 0
    assert deployment.dead_letter_topic not in list_topics(deployment.bootstrap)
    code, out = consume_status(capsys, deployment, deployment.topic, "--status")
    assert code == 1, out
    assert (f"partition {culprit.partition}: position {max(before)}, next offset {culprit.offset}; "
            f"STOPPED at offset {culprit.offset}, log position {culprit.envelope.position} "
            "(Order.Returned)") in out
    code, out = consume_status(capsys, deployment, deployment.topic, "--status", "--format", "json")
    (stopped,) = json.loads(out)["stopped"]
    assert code == 1 and (stopped["partition"], stopped["stopped_at"], stopped["offset"]) == (
        culprit.partition, culprit.envelope.position, culprit.offset)

    business.month(Month(2026, 2), orders=1, close=True)  # more for every partition
    publish(deployment)
    wait_for(others_consumed, "the other partitions take the new events")
    assert deployment.reporting_positions()[culprit.partition] == max(before)
    consumer.stop()

    monkeypatch.undo()  # the cause fixed: a restart resumes from the stored offset
    running()
    wait_for(deployment.consumed_all, "the restarted consumer applies every partition")
    wait_for(lambda: status(deployment).ok, "the fault cleared")
    assert reporting_tables(deployment.reporting_url) == business.in_process_tables()
    code, out = consume_status(capsys, deployment, deployment.topic, "--status")
    assert code == 0 and "OK: no partition stopped, no open hole" in out, out


def test_an_undecodable_relay_message_is_dead_lettered_and_its_hole_reported_until_resolved(
    deployment: Deployment, business: Scenario, kafka_broker: Broker,
    running: Callable[..., Running], capsys: Any,
) -> None:
    """A message of the relay's log the consumer cannot decode (here: garbled on its way): it
    goes to the dead-letter topic, the consumer goes on, and the hole is placed at the log
    position the next message names as its predecessor."""
    publish(deployment)
    original = read_topic(deployment.bootstrap, deployment.topic)
    partition = max(original, key=lambda p: len(original[p]))
    messages = original[partition]

    def garbled(m: Message) -> bool:
        return (m.envelope is not None and m.envelope.type.qualname == "Order.Delivered"
                and m.offset < messages[-1].offset)

    lost = next(m for m in messages if garbled(m))
    assert lost.envelope is not None
    copy = unique_topic_name("hole")
    create_topic(kafka_broker.bootstrap, copy, partitions=3)
    producer = KafkaProducer(bootstrap_servers=deployment.bootstrap, acks="all")
    for p, ms in original.items():
        for m in ms:
            value = b"\x00garbled in transit" if m is lost else m.value
            producer.send(copy, value=value, key=m.key, partition=p)
    producer.flush()
    producer.close()

    consumer = running(topic=copy)
    published = {p: ms[-1].envelope.position for p, ms in original.items() if ms[-1].envelope}
    view = consumer.view
    wait_for(lambda: all((view.max_tracking_id(partition_name(copy, p)) or 0) >= pos
                         for p, pos in published.items()), "the consumer reads every partition")
    counters = consumer.consumer.counters
    assert (counters.dead_lettered, counters.rewinds, counters.orphans, counters.stopped) == (1, 0, 0, 0)
    (hole,) = status(deployment, copy).holes
    assert (hole.feed, hole.kafka_offset) == (partition_name(copy, partition), lost.offset)
    assert hole.position == lost.envelope.position  # learnt from the next message's predecessor
    assert reporting_tables(deployment.reporting_url) != business.in_process_tables()  # a real hole
    dead = read_topic(deployment.bootstrap, f"{deployment.topic}.dlt", partitions=1)[0]
    assert [m.value for m in dead] == [b"\x00garbled in transit"]

    code, out = consume_status(capsys, deployment, copy, "--status")
    assert code == 1, out
    assert (f"open hole: {partition_name(copy, partition)}@{lost.offset} "
            f"(log position {lost.envelope.position})") in out
    assert f"channel consume --resolve {partition}:{lost.offset}" in out
    code, out = consume_status(capsys, deployment, copy, "--resolve", f"{partition}:{lost.offset}")
    assert code == 1 and out.strip().count("\n") == 0 and "--note" in out, out  # one line
    code, out = consume_status(capsys, deployment, copy, "--resolve", f"{partition}:{lost.offset}",
                               "--note", "reporting database rebuilt from the relay's republish")
    assert code == 0, out
    code, out = consume_status(capsys, deployment, copy, "--status")
    assert code == 0, out
    (resolved,) = faults.holes(view, partition_prefix(copy), unresolved=False)
    assert resolved.resolution == ("resolved by an operator: reporting database rebuilt from the "
                                   "relay's republish")


def test_a_consumer_killed_mid_batch_and_restarted_counts_nothing_twice(
    deployment: Deployment, business: Scenario,
) -> None:
    business.month(Month(2026, 2), orders=3, close=True)  # a longer backlog
    publish(deployment)
    total = sum(deployment.published_positions().values())
    killed = deployment.start("consume", "--max-poll-records", "2", name="consumer-1")
    wait_for(lambda: sum(deployment.reporting_positions().values()) > 0,
             "the consumer starts applying", deployment=deployment, every=0.01)
    killed.kill()  # kill -9 while it works through the backlog, two records a transaction
    assert sum(deployment.reporting_positions().values()) < total, "killed before the end"

    deployment.start("consume", name="consumer-2")
    wait_for(deployment.consumed_all, "the restarted consumer applies every partition",
             deployment=deployment)
    assert reporting_tables(deployment.reporting_url) == business.in_process_tables()


def test_a_gap_in_a_partition_makes_the_consumer_read_it_again_and_skip_the_orphan(
    deployment: Deployment, business: Scenario, kafka_broker: Broker,
    running: Callable[..., Running],
) -> None:
    """As after a broker that lost its log: a message whose predecessor was never seen comes
    first (sent before the relay noticed the loss); the whole chain follows it."""
    publish(deployment)
    original = read_topic(deployment.bootstrap, deployment.topic)
    copy = unique_topic_name("gap")
    create_topic(kafka_broker.bootstrap, copy, partitions=3)
    producer = KafkaProducer(bootstrap_servers=deployment.bootstrap, acks="all")
    orphan = next(m for m in original[0] if m.envelope and m.envelope.predecessor > 0)
    producer.send(copy, value=orphan.value, key=orphan.key, partition=0)
    for p, messages in original.items():
        for m in messages:
            producer.send(copy, value=m.value, key=m.key, partition=p)
    producer.flush()
    producer.close()

    consumer = running(topic=copy)
    published = {p: ms[-1].envelope.position for p, ms in original.items() if ms[-1].envelope}
    view = consumer.view

    def caught_up() -> bool:
        return all((view.max_tracking_id(f"kafka:{copy}:{p}") or 0) >= pos
                   for p, pos in published.items())

    wait_for(caught_up, "the consumer applies the copied partitions")
    assert consumer.consumer.counters.rewinds == 1 and consumer.consumer.counters.orphans == 1
    assert reporting_tables(deployment.reporting_url) == business.in_process_tables()


def test_a_member_standing_beyond_the_end_of_a_log_the_broker_lost_reads_it_again_from_the_start(
    deployment: Deployment, business: Scenario, kafka_broker: Broker,
    running: Callable[..., Running],
) -> None:
    """Its stored offsets point past the end of the republished log: without reading the log
    again it would wait for offsets that hold events it never saw."""
    relay = publish(deployment)
    relay.start_over("the test publishes everything twice")
    publish(deployment)  # every partition twice as long as the log needs
    consumer = running()
    wait_for(deployment.consumed_all, "the consumer applies every partition")
    consumer.stop()

    delete_topic(kafka_broker.bootstrap, deployment.topic)  # the broker loses the log
    wait_for(lambda: deployment.topic not in list_topics(kafka_broker.bootstrap),
             "the topic is gone")
    create_topic(kafka_broker.bootstrap, deployment.topic, partitions=3)
    relay.start_over("the broker lost the log")
    business.month(Month(2026, 2), orders=1, close=True)
    publish(deployment)  # once: shorter than where the member stands

    again = running()
    wait_for(deployment.consumed_all, "the consumer applies the new events")
    assert again.consumer.counters.rewinds >= 1
    assert reporting_tables(deployment.reporting_url) == business.in_process_tables()


def test_a_reporting_database_on_sqlite_gets_the_same_tables(
    deployment: Deployment, business: Scenario, tmp_path: Path,
) -> None:
    publish(deployment)
    on_sqlite = replace(deployment, reporting_url=f"sqlite:///{tmp_path / 'reporting.db'}",
                        processes=[])
    consumer = Running(on_sqlite, partitions=[0, 1, 2])
    try:
        published = deployment.published_positions()
        wait_for(lambda: all(
            reporting_positions(consumer.view, deployment.topic, 3).get(p, 0) >= position
            for p, position in published.items()), "the consumer applies every partition")
    finally:
        consumer.stop()
    assert reporting_tables(on_sqlite.reporting_url) == business.in_process_tables()
