"""What the relay has published, in the store's own database: its position is a tracking record of
the library's tracking recorder (as the views keep theirs), under the name `relay:<topic>`; beside
it, the partition count the keys were mapped over and the last (position, offset) published to
each partition. All of it is written in one transaction.

Republishing from the start (the broker lost the log) tracks under a new name,
`relay:<topic>#<n>` after the n-th start over, as a tracking position only ever moves forward.
A store written before the position was a tracking record (a `channel_relay` table) is migrated
once, when the recorder creates its tables: an existing relay resumes where it was."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from infra.persistence import Database
from infra.sql import Datastore, Db, Dialect, advisory_lock, open_datastore

TRACKING_TABLE = "channel_relay_tracking"  # PostgreSQL; SQLite has the library's one `tracking`
LEGACY_TABLE = "channel_relay"  # the position table before tracking records


@dataclass
class Link:
    """The last event published to one partition: its log position and Kafka offset."""

    position: int
    offset: int


@dataclass
class RelayState:
    topic: str
    position: int = 0  # the last log position published (and acknowledged by the broker)
    partitions: int | None = None  # the partition count the keys were mapped over
    republished: int = 0  # how often the relay started over after the broker lost data
    links: dict[int, Link] = field(default_factory=dict)

    def predecessor(self, partition: int) -> int:
        link = self.links.get(partition)
        return link.position if link else 0


def tracking_name(topic: str, republished: int = 0) -> str:
    """The tracking record's application name of the relay of `topic`."""
    return f"relay:{topic}" if republished == 0 else f"relay:{topic}#{republished}"


_CREATE = (
    "CREATE TABLE IF NOT EXISTS @channel_relay_topic (topic TEXT PRIMARY KEY, partitions INTEGER, "
    "republished INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS @channel_relay_partition (topic TEXT NOT NULL, kafka_partition "
    "INTEGER NOT NULL, position BIGINT NOT NULL, kafka_offset BIGINT NOT NULL, "
    "PRIMARY KEY (topic, kafka_partition))",
)
_UPSERT_TOPIC = (
    "INSERT INTO @channel_relay_topic (topic, partitions, republished) VALUES (?, ?, ?) "
    "ON CONFLICT (topic) DO UPDATE SET partitions = excluded.partitions, "
    "republished = excluded.republished"
)
_UPSERT_LINK = (
    "INSERT INTO @channel_relay_partition (topic, kafka_partition, position, kafka_offset) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (topic, kafka_partition) DO UPDATE SET "
    "position = excluded.position, kafka_offset = excluded.kafka_offset"
)


class RelayStore(TrackingRecorder):
    """The relay's tracking recorder (see the module's docstring); `load` and `save` a
    RelayState."""

    datastore: Any

    def create_table(self) -> None:
        lock = (advisory_lock(self.datastore, "relay")
                if isinstance(self.datastore, PostgresDatastore) else nullcontext())
        with lock:
            super().create_table()  # type: ignore[misc]
            with self.datastore.transaction(commit=True) as cursor:
                db = Db(cursor, Dialect.of(self.datastore))
                for statement in _CREATE:
                    db.execute(statement)
                self._migrate(db)

    def _table_exists(self, db: Db, name: str) -> bool:
        if db.dialect.is_postgres:
            return db.scalar("SELECT to_regclass(?) IS NOT NULL", (db.dialect.table(name),)) is True
        return db.one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (name,)) is not None

    def _migrate(self, db: Db) -> None:
        """Move the positions of a `channel_relay` table into tracking records, once."""
        if not self._table_exists(db, LEGACY_TABLE):
            return
        rows = db.all("SELECT topic, position, partitions, republished FROM @channel_relay")
        for row in rows:
            db.execute("INSERT INTO @channel_relay_topic (topic, partitions, republished) "
                       "VALUES (?, ?, ?) ON CONFLICT (topic) DO NOTHING",
                       (row["topic"], row["partitions"], int(row["republished"])))
            self._track(db, tracking_name(row["topic"], int(row["republished"])),
                        int(row["position"]))
        db.execute("DROP TABLE @channel_relay")

    def _track(self, db: Db, name: str, position: int) -> None:
        current = self._max_tracking_id(name, db.cursor) or 0  # type: ignore[attr-defined]
        if position > current:
            self._insert_tracking(db.cursor, Tracking(name, position))  # type: ignore[attr-defined]

    def load(self, topic: str) -> RelayState:
        with self.datastore.transaction(commit=False) as cursor:
            db = Db(cursor, Dialect.of(self.datastore))
            row = db.one("SELECT partitions, republished FROM @channel_relay_topic WHERE topic = ?",
                         (topic,))
            if row is None:
                return RelayState(topic)
            republished = int(row["republished"])
            position = self._max_tracking_id(  # type: ignore[attr-defined]
                tracking_name(topic, republished), cursor) or 0
            links = {int(r["kafka_partition"]): Link(int(r["position"]), int(r["kafka_offset"]))
                     for r in db.all("SELECT kafka_partition, position, kafka_offset FROM "
                                     "@channel_relay_partition WHERE topic = ?", (topic,))}
        return RelayState(topic, int(position), row["partitions"], republished, links)

    def save(self, state: RelayState, changed: Sequence[int] | None = None) -> None:
        """Record the state; `changed` names the partitions whose link moved (None: all, and
        links not in the state are removed)."""
        with self.datastore.transaction(commit=True) as cursor:
            db = Db(cursor, Dialect.of(self.datastore))
            db.execute(_UPSERT_TOPIC, (state.topic, state.partitions, state.republished))
            self._track(db, tracking_name(state.topic, state.republished), state.position)
            if changed is None:
                db.execute("DELETE FROM @channel_relay_partition WHERE topic = ?", (state.topic,))
                changed = sorted(state.links)
            db.executemany(_UPSERT_LINK, [(state.topic, p, state.links[p].position,
                                           state.links[p].offset) for p in changed])


class PostgresRelayStore(RelayStore, PostgresTrackingRecorder):
    pass


class SQLiteRelayStore(RelayStore, SQLiteTrackingRecorder):
    pass


def open_relay_store(datastore: Datastore) -> RelayStore:
    """The relay's recorder on the store's datastore, its tables created (and migrated) if
    needed."""
    store: RelayStore
    if isinstance(datastore, PostgresDatastore):
        store = PostgresRelayStore(datastore, tracking_table_name=TRACKING_TABLE)
    else:
        assert isinstance(datastore, SQLiteDatastore)
        store = SQLiteRelayStore(datastore)
    store.create_table()
    return store


def read_relay_state(database: Database, topic: str) -> RelayState:
    """What the store records of the relay of `topic` (for tools and tests: opens and closes its
    own datastore)."""
    datastore = open_datastore(database)
    try:
        return open_relay_store(datastore).load(topic)
    finally:
        datastore.close()
