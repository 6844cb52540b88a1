"""How a reporting consumer talks to the broker, and what it knows of each assigned partition."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from eventsourcing.persistence import Tracking
from kafka import KafkaConsumer, KafkaProducer

from projections.faults import ReadFault

# Records a poll returns at most. A partition's run of a poll is applied in one transaction, whose
# lock, tracking, offset and commit cost the same whatever its size: the longer the run, the less
# of that per event. 2000 records take well under max_poll_interval_ms to apply.
MAX_POLL_RECORDS = 2000


@dataclass(frozen=True)
class ConsumerOptions:
    """How the consumer talks to the broker (settings CHANNEL_KAFKA_*)."""

    bootstrap: str
    topic: str
    group: str
    dead_letter_topic: str
    max_poll_interval_ms: int = 5000
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1000
    max_poll_records: int = MAX_POLL_RECORDS
    client_id: str = "channel-consume"

    def consumer(self) -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            client_id=self.client_id,
            enable_auto_commit=False,  # the reporting database holds the offsets
            auto_offset_reset="earliest",  # an offset the broker lost: read from the start
            allow_auto_create_topics=False,
            max_poll_interval_ms=self.max_poll_interval_ms,
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_interval_ms,
            max_poll_records=self.max_poll_records,
            fetch_max_wait_ms=100,
        )

    def producer(self) -> KafkaProducer:
        return KafkaProducer(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-dlt",
                             acks="all", linger_ms=0, max_block_ms=10_000)


@dataclass
class PartitionState:
    """What the consumer knows of one assigned partition."""

    position: int  # the last log position applied from it (tracking in the reporting database)
    rewound: bool = False  # read again from the start after a gap; a second gap is an orphan
    fault: ReadFault | None = None  # stopped (paused) at this message until a restart
    retrying: ReadFault | None = None  # a fault recorded before the assignment, tried again
    # Messages dead-lettered since the last one applied: (offset, the log position each claims).
    holes: list[tuple[int, int | None]] = field(default_factory=list)
    # An event for all dealers applied last, whose partition tracking (and offset) is written
    # with the partition's next events, or alone when a poll brings none of them.
    untracked: Tracking | None = None


class PartitionStopped(Exception):
    def __init__(self, fault: ReadFault) -> None:
        super().__init__(fault.describe())
        self.fault = fault


def claimed_position(value: bytes | None) -> int | None:
    """The `position` an undecodable message says it holds, if it says one at all."""
    try:
        document = json.loads(value or b"")
    except ValueError:
        return None
    position = document.get("position") if isinstance(document, dict) else None
    return position if type(position) is int and position > 0 else None


@dataclass
class Counters:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    stopped: int = 0  # partitions stopped at a message they cannot apply
    rewinds: int = 0
    orphans: int = 0
    broadcast_applied: int = 0
    extra: dict[str, int] = field(default_factory=dict)
