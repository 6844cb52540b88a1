"""The relay on a real broker and PostgreSQL: every event published per the Kafka contract, in
log order per partition, resumed from the recorded position, never skipped."""

from __future__ import annotations

from typing import Any

import pytest

from domain.values import Month
from infra.envelope import Codec
from infra.persistence import parse_database_url
from infra.relay import EncoderProcess, KafkaOptions, Relay, partition_for
from infra.relay.log import LogReader
from services.bootstrap import relay_reader
from tests.builders import app_for_url
from tests.integration.kafka_scenario import Message, positions_in, read_topic
from tests.support.kafka import Broker

PARTITIONS = 3


pytestmark = pytest.mark.usefixtures("small_pools")


def relay_for(url: str, bootstrap: str, topic: str, *, apart: bool = False,
              **kwargs: Any) -> Relay:
    """A relay of the store at `url`; `apart`: reading and writing in an encoder process."""
    database = parse_database_url(url)
    if apart:
        kwargs["encoder"] = EncoderProcess(relay_reader, database)
    return Relay(app_for_url(url), database,
                 KafkaOptions(bootstrap=bootstrap, topic=topic, partitions=PARTITIONS), **kwargs)


def check_contract(topic: dict[int, list[Message]], head: int) -> None:
    """Each partition holds its events in log order with an unbroken predecessor chain; a keyed
    event is in its key's partition once, an event for all dealers in every partition."""
    where: dict[int, set[int]] = {}
    broadcast: set[int] = set()
    for p, messages in topic.items():
        previous = 0
        for m in messages:
            e = m.envelope
            assert e is not None, m.value
            assert e.position > previous and e.predecessor == previous, (p, m.offset)
            previous = e.position
            where.setdefault(e.position, set()).add(p)
            if e.broadcast:
                assert m.key is None
                broadcast.add(e.position)
            else:
                key = e.partitionkey or ""
                assert m.key == key.encode() and p == partition_for(key, PARTITIONS)
    assert sorted(where) == list(range(1, head + 1)), "every position, none skipped"
    assert broadcast, "the scenario has events for all dealers (price list, close)"
    for position, partitions in where.items():
        expected = set(range(PARTITIONS)) if position in broadcast else {next(iter(partitions))}
        assert partitions == expected, position


@pytest.mark.parametrize("apart", [False, True], ids=["in-thread", "encoder-process"])
def test_the_relay_publishes_every_event_keyed_by_dealer_and_global_ones_to_every_partition(
    business: Any, pg_url: str, kafka_broker: Broker, kafka_topic: str, apart: bool,
) -> None:
    relay = relay_for(pg_url, kafka_broker.bootstrap, kafka_topic, batch_size=50, apart=apart)
    assert (relay.encoder is not None) is apart
    relay.run(until=business.head)
    if relay.encoder is not None:  # every batch came from it
        assert relay.encoder.starts == 1 and relay.encoder.batches >= business.head / 50
    relay.close()
    relay.app.close()

    topic = read_topic(kafka_broker.bootstrap, kafka_topic)
    check_contract(topic, business.head)
    assert relay.state.position == business.head
    for p, messages in topic.items():  # the recorded link is the partition's last message
        assert relay.state.links[p].offset == messages[-1].offset
        assert relay.state.links[p].position == positions_in(messages)[-1]
    types = {m.envelope.type.name for ms in topic.values() for m in ms if m.envelope}
    assert {"channel.order.Delivered.v1", "channel.accounting_calendar.MonthClosed.v1",
            "channel.rebate_slip.Issued.v1", "channel.spare_parts_pool.Allocated.v1"} <= types
    # Each message is, byte for byte, the codec's envelope of the mapper's event (the relay
    # writes it from the stored state: infra/envelope/stored.py).
    app = app_for_url(pg_url)
    try:
        notifications = {n.id: n for n in app.recorder.select_notifications(start=1,
                                                                               limit=100_000)}
        codec = Codec(checked=False)
        for messages in topic.values():
            for m in messages:
                assert m.envelope is not None
                event = app.mapper.to_domain_event(notifications[m.envelope.position])
                assert m.value == codec.encode(event, position=m.envelope.position,
                                               predecessor=m.envelope.predecessor,
                                               partitionkey=m.envelope.partitionkey)
    finally:
        app.close()


def test_the_relay_reads_the_log_as_the_recorder_gives_it(business: Any, pg_url: str) -> None:
    """Its own binary reads of the log are the recorder's notifications, bounded alike."""
    app = app_for_url(pg_url)
    reader = LogReader(app.recorder, parse_database_url(pg_url))
    try:
        assert reader.own
        for start, limit, stop in [(1, 10_000, None), (1, 7, None), (5, 50, 20), (3, 10, 2),
                                   (business.head, 10, None), (business.head + 1, 10, None)]:
            expected = [(n.id, n.originator_id, n.originator_version, n.topic, n.state)
                        for n in app.recorder.select_notifications(start=start, limit=limit,
                                                                   stop=stop)]
            assert reader.read(start, limit, stop) == expected
    finally:
        reader.close()
        app.close()


def test_a_new_relay_resumes_from_the_recorded_position_without_publishing_twice(
    business: Any, pg_url: str, kafka_broker: Broker, kafka_topic: str,
) -> None:
    first = relay_for(pg_url, kafka_broker.bootstrap, kafka_topic)
    first.run(until=business.head)
    first.close()
    first.app.close()
    published = first.published
    business.month(Month(2026, 2), orders=1, close=True)

    second = relay_for(pg_url, kafka_broker.bootstrap, kafka_topic)
    assert second.state.position == first.state.position  # read back from the store
    second.run(until=business.head)
    second.close()
    second.app.close()

    topic = read_topic(kafka_broker.bootstrap, kafka_topic)
    check_contract(topic, business.head)  # strictly increasing: nothing published twice
    assert published + second.published == sum(len(ms) for ms in topic.values())


@pytest.mark.parametrize(("mode", "idempotent"), [("auto", True), ("on", True), ("off", False)])
def test_the_relays_producer_waits_for_all_replicas_and_keeps_partition_order(
    kafka_bootstrap: str, kafka_topic: str, mode: str, idempotent: bool,
) -> None:
    options = KafkaOptions(bootstrap=kafka_bootstrap, topic=kafka_topic, partitions=PARTITIONS,
                           idempotence=mode, max_in_flight=5)
    producer = options.producer()
    try:
        assert producer.config["acks"] == -1  # "all"
        assert producer.config["enable_idempotence"] is idempotent  # tansu accepts it
        # Bounded; one at a time when a retried request could overtake the next.
        assert producer.config["max_in_flight_requests_per_connection"] == (5 if idempotent else 1)
    finally:
        producer.close()
