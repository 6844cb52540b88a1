"""Fixtures of the Kafka tests: a deployment (store, relay, reporting database, broker topic)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.values import Month
from tests.integration.kafka_scenario import SMALL_POOLS, Deployment, Scenario, scenario
from tests.support.kafka import Broker
from tests.support.postgres import isolated_schema


@pytest.fixture
def small_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small connection pools: the Kafka tests run several processes against one server."""
    for key, value in SMALL_POOLS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def business(pg_url: str) -> Iterator[Scenario]:
    """A store's log for the relay's tests: four dealers and a month of their business, closed
    (events for one dealer and for all). The consumer's tests have their own."""
    made = scenario(pg_url)
    try:
        made.start(dealers=4)
        made.month(Month(2026, 1), orders=1, close=True)
        yield made
    finally:
        made.runtime.close()


@pytest.fixture
def deployment(
    small_pools: None,
    pg_url: str,
    postgres_server: str,
    kafka_broker: Broker,
    kafka_topic: str,
    tmp_path: Path,
) -> Iterator[Deployment]:
    with isolated_schema(postgres_server, "reporting") as reporting_url:
        made = Deployment(pg_url, reporting_url, kafka_broker.bootstrap, kafka_topic, tmp_path)
        try:
            yield made
        finally:
            made.close()
