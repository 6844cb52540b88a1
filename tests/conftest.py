"""Shared fixtures: a real PostgreSQL server and a real Kafka-protocol broker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import unavailable
from tests.support.kafka import (
    Broker,
    BrokerUnavailable,
    broker_from_environment,
    create_topic,
    delete_topic,
    unique_topic_name,
)
from tests.support.postgres import PostgresUnavailable, find_postgres_server, isolated_schema

# CI runs the same examples every time (a red CI must be a real regression, reproducible at once);
# developers' runs explore new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

_MARKERS = {"postgres": ("postgres_server", "pg_url"),
            "kafka": ("kafka_broker", "kafka_bootstrap", "kafka_topic")}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use the server fixtures, so `-m "not kafka"` etc. select them."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in _MARKERS.items():
            if names.intersection(fixtures):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Base URL `postgresql://user@host:port/db` of a PostgreSQL server for this session."""
    try:
        server = find_postgres_server()
    except PostgresUnavailable as exc:
        unavailable(str(exc))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """`postgresql://user@host:port/db?schema=S` for a fresh schema, dropped after the test."""
    with isolated_schema(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL, once on an SQLite file and once on a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[Broker]:
    """The session's broker; a test that stops it must start it again before it ends."""
    try:
        broker = broker_from_environment()
    except BrokerUnavailable as exc:
        unavailable(str(exc))
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: Broker) -> str:
    """The broker's "host:port"."""
    return kafka_broker.bootstrap


@pytest.fixture
def kafka_topic(kafka_broker: Broker, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, uniquely named topic with 3 partitions; deleted after the test."""
    if not kafka_broker.running:
        kafka_broker.start()
    name = unique_topic_name(request.node.name)
    create_topic(kafka_broker.bootstrap, name, partitions=3)
    yield name
    if kafka_broker.running:
        delete_topic(kafka_broker.bootstrap, name)
