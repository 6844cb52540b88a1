"""The reporting database's side of the consumer: each partition's tracking (by log position) and
next Kafka offset, written in the transaction that writes the rows they produced."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Tracking
from eventsourcing.utils import Environment

from infra.persistence import parse_database_url
from infra.relay import SMALL_POOL
from infra.sql import Db, Dialect
from projections.projection import ChannelProjection
from projections.views import ChannelView, PostgresChannelView, SQLiteChannelView

OFFSETS_TABLE = "channel_consumer_offsets"  # `@channel_consumer_offsets` below


def partition_prefix(topic: str) -> str:
    return f"kafka:{topic}:"


def partition_name(topic: str, partition: int) -> str:
    """The tracking name of one partition in the reporting database."""
    return f"{partition_prefix(topic)}{partition}"


def broadcast_name(topic: str) -> str:
    """The tracking name of the events published to every partition: applied once per database."""
    return f"kafka:{topic}:*"


@dataclass(frozen=True)
class KafkaTracking(Tracking):
    """A partition's tracking (by log position, so duplicates are dropped whatever their offset)
    that also carries the Kafka offset to store with it."""

    topic: str = ""
    partition: int = 0
    offset: int = 0

    @classmethod
    def at(cls, name: str, position: int, topic: str, partition: int, offset: int) -> KafkaTracking:
        """`KafkaTracking(name, position, topic=…, partition=…, offset=…)`, made the cheap way:
        the consumer makes one per message (the frozen dataclass's `__init__` sets each field
        through `object.__setattr__`)."""
        tracking = object.__new__(cls)
        object.__setattr__(tracking, "__dict__", {
            "application_name": name, "notification_id": position, "topic": topic,
            "partition": partition, "offset": offset})
        return tracking


class OffsetsMixin:
    """Writes the partition's next offset in the transaction that writes the tracking record."""

    datastore: Any

    def _db(self, cursor: Any) -> Db:
        return Db(cursor, Dialect.of(self.datastore))

    def create_table(self) -> None:
        super().create_table()  # type: ignore[misc]
        with self.datastore.transaction(commit=True) as cursor:
            self._db(cursor).execute(
                "CREATE TABLE IF NOT EXISTS @channel_consumer_offsets (topic TEXT NOT NULL, "
                "kafka_partition INTEGER NOT NULL, next_offset BIGINT NOT NULL, "
                "PRIMARY KEY (topic, kafka_partition))"
            )

    def _insert_tracking(self, cursor: Any, tracking: Tracking) -> None:
        super()._insert_tracking(cursor, tracking)  # type: ignore[misc]
        if isinstance(tracking, KafkaTracking):
            self._store_offset(cursor, tracking.topic, tracking.partition, tracking.offset + 1)

    def _store_offset(self, cursor: Any, topic: str, partition: int, next_offset: int) -> None:
        self._db(cursor).execute(
            "INSERT INTO @channel_consumer_offsets (topic, kafka_partition, next_offset) "
            "VALUES (?, ?, ?) ON CONFLICT (topic, kafka_partition) "
            "DO UPDATE SET next_offset = excluded.next_offset",
            (topic, partition, next_offset),
        )

    def store_offset(self, topic: str, partition: int, next_offset: int) -> None:
        """Record an offset alone (a message that produced no rows: dead-lettered, a duplicate)."""
        with self.datastore.transaction(commit=True) as cursor:
            self._store_offset(cursor, topic, partition, next_offset)

    def stored_offsets(self, topic: str) -> dict[int, int]:
        with self.datastore.transaction(commit=False) as cursor:
            rows = self._db(cursor).all(
                "SELECT kafka_partition, next_offset FROM @channel_consumer_offsets "
                "WHERE topic = ?", (topic,))
        return {int(r["kafka_partition"]): int(r["next_offset"]) for r in rows}


class PostgresReportingView(OffsetsMixin, PostgresChannelView):
    pass


class SQLiteReportingView(OffsetsMixin, SQLiteChannelView):
    pass


ReportingView = PostgresReportingView | SQLiteReportingView


def open_reporting_view(url: str) -> ReportingView:
    """The read-model view on the reporting database (tables created if missing)."""
    database = parse_database_url(url)
    # One thread writes: a small pool (CHANNELREADMODEL_POSTGRES_POOL_SIZE etc. still override).
    env = Environment(ChannelProjection.name, {**os.environ, **database.eventsourcing_env(),
                                               **SMALL_POOL})
    view_class = PostgresReportingView if database.is_postgres else SQLiteReportingView
    for attempt in range(5):
        factory: Any = InfrastructureFactory.construct(env=env)
        try:
            view: ReportingView = factory.tracking_recorder(view_class)
            return view
        except IntegrityError:
            # Two processes creating the tables at once (CREATE TABLE IF NOT EXISTS is not safe
            # against that on PostgreSQL): the other one made them; look again.
            factory.close()
            time.sleep(0.1 * (attempt + 1))
    raise RuntimeError(f"could not create the reporting tables in {url}")


def reporting_positions(view: ChannelView, topic: str, partitions: int) -> dict[int, int]:
    """The last log position applied from each partition (0 for none)."""
    return {p: view.max_tracking_id(partition_name(topic, p)) or 0 for p in range(partitions)}
