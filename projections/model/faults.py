"""The read side's own bookkeeping (written by `projections.faults`, applied by no event): a feed
stopped at an event it cannot apply, and Kafka messages dead-lettered."""

from __future__ import annotations

TABLES: dict[str, str] = {
    # One row per stopped feed: the store's log, or one Kafka partition.
    "read_faults": """
        feed TEXT PRIMARY KEY, position BIGINT NOT NULL, event_type TEXT NOT NULL,
        reason TEXT NOT NULL, recorded_at TEXT NOT NULL, recorded_by TEXT NOT NULL,
        kafka_offset BIGINT""",
    "read_holes": """
        feed TEXT NOT NULL, kafka_offset BIGINT NOT NULL, position BIGINT, digest TEXT NOT NULL,
        reason TEXT NOT NULL, recorded_at TEXT NOT NULL, resolved_at TEXT, resolution TEXT,
        PRIMARY KEY (feed, kafka_offset)""",
}
# Not rebuilt from the log at all: left out when two builds of the read model are compared.
BOOKKEEPING = ("read_faults", "read_holes")
