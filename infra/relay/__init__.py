"""The transactional-outbox relay of the store's log to Kafka (DESIGN: Kafka contract).

Modules: `keys` (the Kafka key and partition of each event), `encoder` (each event's key and
envelope written from its row, in the relay's thread or a process of its own), `kafka` (the
producer, admin and reader clients), `store` (the relay's tracking recorder: position, partitions,
links), `topic` (the broker's side: the topic still holds what was published), `relay` (the
loop)."""

from infra.relay.encoder import EncoderProcess, EnvelopeWriter
from infra.relay.kafka import (
    HEADERS,
    KafkaOptions,
    RelayError,
    create_topic,
    delete_topic,
    topic_partitions,
)
from infra.relay.keys import PartitionKeys, partition_for
from infra.relay.relay import Relay
from infra.relay.store import (
    Link,
    PostgresRelayStore,
    RelayState,
    RelayStore,
    SQLiteRelayStore,
    open_relay_store,
    read_relay_state,
    tracking_name,
)
from infra.relay.topic import BrokerLostData

# The relay and each consumer work from one thread: small PostgreSQL connection pools.
SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}

__all__ = [
    "HEADERS",
    "SMALL_POOL",
    "BrokerLostData",
    "EncoderProcess",
    "EnvelopeWriter",
    "KafkaOptions",
    "Link",
    "PartitionKeys",
    "PostgresRelayStore",
    "Relay",
    "RelayError",
    "RelayState",
    "RelayStore",
    "SQLiteRelayStore",
    "create_topic",
    "delete_topic",
    "open_relay_store",
    "partition_for",
    "read_relay_state",
    "topic_partitions",
    "tracking_name",
]
