"""Faults of the relay on a real broker and PostgreSQL, with `channel relay` and `channel consume`
as real processes: killed mid-stream and restarted, and the broker stopped and started again
(memory storage: it comes back empty, and the relay republishes)."""

from __future__ import annotations

import pytest

from domain.values import Month
from tests.integration.kafka_scenario import (
    Deployment,
    Message,
    read_topic,
    reporting_tables,
    scenario,
    wait_for,
)
from tests.support.kafka import Broker, delete_topic

PARTITIONS = 3


pytestmark = pytest.mark.usefixtures("small_pools")




def accepted_chain(topic: dict[int, list[Message]], *, lost: bool = False
                   ) -> dict[int, list[int]]:
    """Per partition, the positions a consumer accepts (duplicates dropped); asserts that each
    accepted message follows the previous accepted one (its predecessor): no gap. With `lost`,
    messages the relay sent into the emptied broker before it noticed may precede the
    republished log (they are republished in it, in order)."""
    chains: dict[int, list[int]] = {}
    for p, messages in topic.items():
        accepted: list[int] = []
        started = not lost
        for m in messages:
            assert m.envelope is not None
            started = started or m.envelope.predecessor == 0
            if not started:
                continue
            last = accepted[-1] if accepted else 0
            if m.envelope.position <= last:
                continue  # a message published again after the relay's restart
            assert m.envelope.predecessor == last, f"gap in partition {p} at offset {m.offset}"
            accepted.append(m.envelope.position)
        chains[p] = accepted
    return chains


def every_position_once_or_everywhere(chains: dict[int, list[int]], head: int) -> None:
    seen: dict[int, int] = {}
    for positions in chains.values():
        for position in positions:
            seen[position] = seen.get(position, 0) + 1
    assert sorted(seen) == list(range(1, head + 1)), "no position skipped"
    assert set(seen.values()) <= {1, PARTITIONS}


def test_a_relay_killed_mid_stream_and_restarted_leaves_no_gap_and_counts_nothing_twice(
    deployment: Deployment,
) -> None:
    business = scenario(deployment.store_url)
    try:
        relay = deployment.start("relay", "--batch", "3", name="relay-1")
        deployment.start("consume", name="consumer")
        business.start(dealers=6)
        wait_for(lambda: deployment.relay_position() > 0, "the relay starts publishing",
                 deployment=deployment)
        relay.kill()  # kill -9 while the log keeps growing under it
        killed_at = deployment.relay_position()
        business.month(Month(2026, 1), orders=2, close=True)
        head = business.head
        assert killed_at < head
        deployment.start("relay", "--batch", "3", name="relay-2")
        expected = business.in_process_tables()
    finally:
        business.runtime.close()
    wait_for(lambda: deployment.relay_position() >= head, "the restarted relay catches up",
             deployment=deployment)
    wait_for(deployment.consumed_all, "the consumer applies every partition",
             deployment=deployment)

    topic = read_topic(deployment.bootstrap, deployment.topic)
    every_position_once_or_everywhere(accepted_chain(topic), head)
    assert reporting_tables(deployment.reporting_url) == expected


def test_the_broker_stopped_and_started_while_the_relay_runs_gets_every_event_again(
    deployment: Deployment, kafka_broker: Broker,
) -> None:
    business = scenario(deployment.store_url)
    try:
        deployment.start("relay", name="relay")
        deployment.start("consume", name="consumer")
        business.start(dealers=5)
        first_head = business.head
        wait_for(lambda: deployment.relay_position() >= first_head and deployment.consumed_all(),
                 "the first part is published and consumed", deployment=deployment)
        if kafka_broker.restartable:
            kafka_broker.stop()  # memory storage: topics, messages and group offsets are lost
        else:  # a real broker cannot be stopped from here: lose the topic instead
            delete_topic(kafka_broker.bootstrap, deployment.topic)
        business.month(Month(2026, 1), orders=1, close=True)  # the store takes writes meanwhile
        head = business.head
        if kafka_broker.restartable:
            kafka_broker.start()
        expected = business.in_process_tables()
    finally:
        business.runtime.close()
    wait_for(lambda: deployment.relay_state().republished >= 1
             and deployment.relay_position() >= head,
             "the relay notices the loss and republishes the log", timeout=90,
             deployment=deployment)
    wait_for(deployment.consumed_all, "the consumer applies every partition", timeout=90,
             deployment=deployment)

    topic = read_topic(deployment.bootstrap, deployment.topic)
    every_position_once_or_everywhere(accepted_chain(topic, lost=True), head)
    assert reporting_tables(deployment.reporting_url) == expected
    assert "republishing the log from the start" in deployment.logs()
