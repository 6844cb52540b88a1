"""The relay's record of what it published, on SQLite and PostgreSQL: its position is a tracking
record of the library's tracking recorder (`relay:<topic>`), written with the partition links in
one transaction, and a store written before (a `channel_relay` position table) is migrated once,
so that its relay resumes where it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.persistence import parse_database_url
from infra.relay import Link, RelayState, open_relay_store, read_relay_state, tracking_name
from infra.sql import Datastore, open_datastore, transaction


@pytest.fixture
def datastore(database_url: str) -> Iterator[Datastore]:
    store = open_datastore(parse_database_url(database_url))
    try:
        yield store
    finally:
        store.close()


def write_legacy_tables(datastore: Datastore) -> None:
    """The relay's tables as a store written before tracking records holds them."""
    with transaction(datastore, commit=True) as db:
        db.execute("CREATE TABLE @channel_relay (topic TEXT PRIMARY KEY, position BIGINT NOT "
                   "NULL, partitions INTEGER, republished INTEGER NOT NULL DEFAULT 0)")
        db.execute("CREATE TABLE @channel_relay_partition (topic TEXT NOT NULL, kafka_partition "
                   "INTEGER NOT NULL, position BIGINT NOT NULL, kafka_offset BIGINT NOT NULL, "
                   "PRIMARY KEY (topic, kafka_partition))")
        db.executemany("INSERT INTO @channel_relay VALUES (?, ?, ?, ?)",
                       [("events", 412, 3, 0), ("again", 77, 2, 1)])
        db.executemany("INSERT INTO @channel_relay_partition VALUES (?, ?, ?, ?)",
                       [("events", 0, 410, 51), ("events", 2, 412, 60), ("again", 1, 77, 9)])


def legacy_table_exists(datastore: Datastore) -> bool:
    store = open_relay_store(datastore)
    with transaction(datastore, commit=False) as db:
        return store._table_exists(db, "channel_relay")


def test_an_existing_relay_position_is_migrated_once_into_tracking_records(
    datastore: Datastore, database_url: str,
) -> None:
    write_legacy_tables(datastore)

    store = open_relay_store(datastore)
    assert store.load("events") == RelayState(
        "events", 412, 3, 0, {0: Link(410, 51), 2: Link(412, 60)})
    # A relay that had started over once tracks under the name of its second run.
    assert store.load("again") == RelayState("again", 77, 2, 1, {1: Link(77, 9)})
    assert store.max_tracking_id(tracking_name("events")) == 412
    assert store.max_tracking_id(tracking_name("again", 1)) == 77
    assert store.max_tracking_id(tracking_name("again")) is None
    assert not legacy_table_exists(datastore)

    # Opened again (another process, a restart): nothing to migrate, the same state.
    again = open_relay_store(datastore)
    assert again.load("events").position == 412
    assert read_relay_state(parse_database_url(database_url), "events").position == 412


def test_the_position_moves_on_with_the_links_and_a_start_over_tracks_afresh(
    datastore: Datastore,
) -> None:
    store = open_relay_store(datastore)
    assert store.load("events") == RelayState("events")

    state = RelayState("events", 0, 3)
    store.save(state)  # the partition count alone, before anything is published
    assert store.load("events") == RelayState("events", 0, 3)

    state.position, state.links = 40, {0: Link(38, 5), 1: Link(40, 7)}
    store.save(state, changed=[0, 1])
    state.position, state.links[1] = 55, Link(55, 9)
    store.save(state, changed=[1])
    assert store.load("events") == RelayState("events", 55, 3, 0, {0: Link(38, 5), 1: Link(55, 9)})
    assert store.max_tracking_id(tracking_name("events")) == 55

    # The broker lost the log: the relay republishes from position 1, under a new name.
    state.position, state.links, state.republished = 0, {}, 1
    store.save(state)
    assert store.load("events") == RelayState("events", 0, 3, 1, {})
    state.position, state.links = 12, {2: Link(12, 0)}
    store.save(state, changed=[2])
    assert store.load("events") == RelayState("events", 12, 3, 1, {2: Link(12, 0)})
    assert store.max_tracking_id(tracking_name("events", 1)) == 12
    assert store.max_tracking_id(tracking_name("events")) == 55
