"""How the relay talks to the broker: its producer (acks=all, idempotence), admin and reader
clients, and the topic's partitions."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

from infra.envelope import CONTENT_TYPE

HEADERS = [("content-type", CONTENT_TYPE.encode())]
ON, OFF = {"on", "true", "yes", "1"}, {"off", "false", "no", "0"}


class RelayError(RuntimeError):
    """The relay cannot go on without an operator (e.g. the topic was repartitioned)."""


@dataclass(frozen=True)
class KafkaOptions:
    """How the relay talks to the broker (settings CHANNEL_KAFKA_*)."""

    bootstrap: str
    topic: str
    partitions: int  # for a topic the relay creates
    idempotence: str = "auto"  # "auto" (the client decides from the broker), "on" or "off"
    max_in_flight: int = 1  # bounded (≤ 5); forced to 1 without idempotence, to keep order
    linger_ms: int = 5
    request_timeout_ms: int = 10_000
    client_id: str = "channel-relay"

    def __post_init__(self) -> None:
        if self.idempotence.strip().lower() not in ON | OFF | {"auto"}:
            raise RelayError(f"CHANNEL_KAFKA_IDEMPOTENCE: {self.idempotence!r} is not auto, on "
                             "or off")

    def producer(self) -> KafkaProducer:
        config: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "client_id": self.client_id,
            "acks": "all",
            "linger_ms": self.linger_ms,
            "batch_size": 256 * 1024,
            "request_timeout_ms": self.request_timeout_ms,
            "delivery_timeout_ms": 3 * self.request_timeout_ms,
            "max_block_ms": self.request_timeout_ms,
            "retry_backoff_ms": 200,
            "reconnect_backoff_max_ms": 2000,
            "allow_auto_create_topics": False,
        }
        mode = self.idempotence.strip().lower()
        if mode in OFF:
            config.update(enable_idempotence=False, max_in_flight_requests_per_connection=1)
        else:
            config["max_in_flight_requests_per_connection"] = max(1, min(self.max_in_flight, 5))
            if mode in ON:
                config["enable_idempotence"] = True
        producer = KafkaProducer(**config)
        if not producer.config["enable_idempotence"]:
            # Without idempotence a retried batch could overtake the next: one at a time.
            producer.config["max_in_flight_requests_per_connection"] = 1
        return producer

    def admin(self) -> KafkaAdminClient:
        # bootstrap_timeout_ms defaults to 30 s: a dead broker would hold every check that long.
        return KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=self.client_id,
                                request_timeout_ms=self.request_timeout_ms,
                                bootstrap_timeout_ms=self.request_timeout_ms)

    def reader(self) -> KafkaConsumer:
        return KafkaConsumer(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-check",
                             enable_auto_commit=False, auto_offset_reset="none",
                             allow_auto_create_topics=False,
                             request_timeout_ms=self.request_timeout_ms + 1000,
                             fetch_max_wait_ms=100)


def topic_partitions(options: KafkaOptions, admin: KafkaAdminClient | None = None) -> int | None:
    """The topic's partition count, None when the broker does not know the topic (`admin`: a
    client to use, else one of its own)."""
    client = admin or options.admin()
    try:
        described = client.describe_topics([options.topic])
    except UnknownTopicOrPartitionError:
        return None
    finally:
        if admin is None:
            client.close()
    for topic in described:
        if topic.get("name", topic.get("topic")) == options.topic and not topic.get("error_code"):
            return len(topic.get("partitions") or []) or None
    return None


def create_topic(options: KafkaOptions, partitions: int,
                 admin: KafkaAdminClient | None = None) -> None:
    client = admin or options.admin()
    try:
        client.create_topics([NewTopic(options.topic, partitions, 1)],
                             timeout_ms=options.request_timeout_ms)
    except TopicAlreadyExistsError:
        pass
    finally:
        if admin is None:
            client.close()


def delete_topic(options: KafkaOptions) -> None:
    admin = options.admin()
    try:
        with suppress(UnknownTopicOrPartitionError):
            admin.delete_topics([options.topic], timeout_ms=options.request_timeout_ms)
    finally:
        admin.close()
