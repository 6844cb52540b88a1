"""Fixtures of the Kafka tests: a deployment (store, relay, reporting database, broker topic)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.kafka_scenario import SMALL_POOLS, Deployment, Scenario, month_of_business
from tests.support.kafka import Broker
from tests.support.postgres import isolated_schema


@pytest.fixture
def small_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small connection pools: the Kafka tests run several processes against one server."""
    for key, value in SMALL_POOLS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def business(pg_url: str) -> Iterator[Scenario]:
    """A store's log for the relay's tests (the consumer's tests have their own)."""
    with month_of_business(pg_url, dealers=4, orders=1) as made:
        yield made


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
