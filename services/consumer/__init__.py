"""The reporting consumer: a Kafka consumer group that feeds the relay's messages to the same
projection the in-process runners use, into a reporting database, with each partition's offset
stored in the same transaction as the rows it produced.

A message that decodes but cannot be applied stops its partition there (paused, nothing
dead-lettered or skipped; the fault recorded in the reporting database); a message that cannot
be decoded goes to the dead-letter topic, and the hole it may leave is recorded until resolved.

Modules: `tracking` (the reporting view: tracking and offsets), `status` (--status, --resolve),
`state` (options, per-partition state), `holes` (faults, dead letters, holes), `consumer` (the
group member)."""

from services.consumer.consumer import ReportingConsumer
from services.consumer.state import (
    ConsumerOptions,
    Counters,
    PartitionState,
    PartitionStopped,
    claimed_position,
)
from services.consumer.status import ReportingStatus, reporting_status, resolve_hole
from services.consumer.tracking import (
    OFFSETS_TABLE,
    KafkaTracking,
    OffsetsMixin,
    PostgresReportingView,
    ReportingView,
    SQLiteReportingView,
    broadcast_name,
    open_reporting_view,
    partition_name,
    partition_prefix,
    reporting_positions,
)

__all__ = [
    "OFFSETS_TABLE",
    "ConsumerOptions",
    "Counters",
    "KafkaTracking",
    "OffsetsMixin",
    "PartitionState",
    "PartitionStopped",
    "PostgresReportingView",
    "ReportingConsumer",
    "ReportingStatus",
    "ReportingView",
    "SQLiteReportingView",
    "broadcast_name",
    "claimed_position",
    "open_reporting_view",
    "partition_name",
    "partition_prefix",
    "reporting_positions",
    "reporting_status",
    "resolve_hole",
]
