"""What a reporting database holds of a topic (`channel consume --status`), and an operator's
resolution of a hole (`--resolve`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections import faults
from projections.faults import Hole, ReadFault
from services.consumer.tracking import ReportingView, partition_name, partition_prefix


@dataclass(frozen=True)
class ReportingStatus:
    """What a reporting database holds of a topic: each partition's last position applied and
    next offset, the partitions stopped at a message they cannot apply, the open holes."""

    topic: str
    partitions: dict[int, tuple[int, int]]
    stopped: list[ReadFault]
    holes: list[Hole]

    @property
    def ok(self) -> bool:
        return not self.stopped and not self.holes

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic, "ok": self.ok,
            "partitions": [{"partition": p, "position": pos, "next_offset": offset}
                           for p, (pos, offset) in sorted(self.partitions.items())],
            "stopped": [{"partition": _partition_of(f.feed), **f.as_dict()} for f in self.stopped],
            "holes": [h.as_dict() for h in self.holes],
        }


def _partition_of(feed: str) -> int:
    return int(feed.rsplit(":", 1)[-1])


def reporting_status(view: ReportingView, topic: str) -> ReportingStatus:
    prefix = partition_prefix(topic)
    offsets = view.stored_offsets(topic)
    recorded = faults.recorded_all(view, prefix)
    numbers = set(offsets) | {_partition_of(f.feed) for f in recorded}
    partitions = {p: (view.max_tracking_id(partition_name(topic, p)) or 0, offsets.get(p, 0))
                  for p in sorted(numbers)}
    # A fault whose event has been applied since stops nothing (see faults.stopped).
    stopped = [f for f in recorded if f.position > partitions[_partition_of(f.feed)][0]]
    return ReportingStatus(topic, partitions, stopped, faults.holes(view, prefix))


def resolve_hole(view: ReportingView, topic: str, partition: int, offset: int, note: str) -> bool:
    """An operator's word that a hole is dealt with (say how: the reporting database rebuilt,
    the message known to hold no event...)."""
    return faults.resolve_hole(view, partition_name(topic, partition), offset,
                               f"resolved by an operator: {note}")
