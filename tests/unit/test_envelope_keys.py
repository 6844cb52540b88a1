"""Keys and partitions of the Kafka contract: the dealer id for every event that concerns one
dealer, nothing (published to every partition) for those that concern all of them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.partitioner.default import DefaultPartitioner

from domain.dealer import Dealer
from domain.log_seal import LogSeal
from domain.order import Order
from domain.period import AccountingCalendar
from domain.policy import Policy
from domain.price_list import PriceList
from domain.roster import Roster
from examples.ml_company import Demo
from infra.relay import KafkaOptions, PartitionKeys, RelayError, partition_for
from tests.builders import memory_app


@pytest.fixture(scope="module")
def demo() -> tuple[Any, list[Any]]:
    app = memory_app()
    Demo(app, say=lambda _: None).run()
    notifications = app.recorder.select_notifications(start=1, limit=100_000)
    return app, [app.mapper.to_domain_event(n) for n in notifications]


def loader(app: Any) -> Any:
    return lambda aggregate_id: next(iter(app.events.get(aggregate_id, lte=1)))


def dealer_of(app: Any, event: Any) -> str | None:
    """The dealer an event concerns, the long way: from its aggregate's current state."""
    aggregate = app.repository.get(event.originator_id)
    if isinstance(aggregate, Dealer):
        return str(aggregate.id)
    if isinstance(aggregate, Roster):
        return getattr(event, "dealer_id", None)
    # Orders, credit lines, rebate slips name their dealer; pools theirs (or "national").
    owner = getattr(aggregate, "dealer_id", None) or getattr(aggregate, "pool", None)
    return None if owner is None else str(owner)


def test_each_event_is_keyed_by_the_dealer_it_concerns_and_global_ones_by_none(
    demo: tuple[Any, list[Any]],
) -> None:
    app, events = demo
    keys = PartitionKeys(loader(app))
    for event in events:
        assert keys.key_for(event) == dealer_of(app, event), type(event).__qualname__
    keyed = {type(e) for e in events if keys.key_for(e) is None}
    assert keyed <= {PriceList.Opened, PriceList.VersionPublished, AccountingCalendar.Opened,
                     AccountingCalendar.MonthClosed, LogSeal.Recorded, Roster.Opened,
                     Policy.Opened, Policy.VersionPublished}
    assert AccountingCalendar.MonthClosed in keyed and PriceList.VersionPublished in keyed
    assert Policy.VersionPublished in keyed  # R4: every partition's consumer needs the policy


def test_a_later_order_event_finds_its_dealer_in_the_store_when_the_placement_was_not_seen(
    demo: tuple[Any, list[Any]],
) -> None:
    app, events = demo
    read: list[UUID] = []

    def load_first(aggregate_id: UUID) -> Any:
        read.append(aggregate_id)
        return loader(app)(aggregate_id)

    keys = PartitionKeys(load_first)
    delivered = next(e for e in events if isinstance(e, Order.Delivered))
    assert keys.key_for(delivered) == app.get_order(delivered.originator_id).dealer_id
    assert keys.key_for(delivered) == app.get_order(delivered.originator_id).dealer_id
    assert read == [delivered.originator_id]  # remembered after the first look-up


class _Cluster:
    """The little of kafka-python's ClusterMetadata its partitioner reads."""

    def __init__(self, partitions: int) -> None:
        self.partitions = set(range(partitions))

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions


@settings(max_examples=100, deadline=None)
@given(key=st.text(min_size=1, max_size=60), partitions=st.integers(min_value=1, max_value=64))
def test_the_partition_of_a_key_is_the_one_kafkas_default_partitioner_chooses(
    key: str, partitions: int
) -> None:
    raw = key.encode()
    chosen = DefaultPartitioner().partition("t", raw, raw, b"", b"", _Cluster(partitions))
    assert partition_for(key, partitions) == chosen


@pytest.mark.parametrize("value", ["maybe", "", "enabled"])
def test_an_unknown_idempotence_setting_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(RelayError, match="CHANNEL_KAFKA_IDEMPOTENCE"):
        KafkaOptions(bootstrap="127.0.0.1:9092", topic="t", partitions=1, idempotence=value)
