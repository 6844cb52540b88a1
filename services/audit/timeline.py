"""The audit's two timelines. `--until POSITION` cuts the log at a position; `--as-of DATE` at the
last position recorded by the end of that day (recorded time: each stored event's timestamp).
Either picks a prefix of the log; business dates stay the basis of every figure computed on it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification

from domain.errors import InvalidInputError

BATCH = 1000
# The JSON transcoder writes the timestamp first; read it without decoding the whole event.
_TIMESTAMP = re.compile(rb'^\{"timestamp":\{"_type_":"datetime_iso","_data_":"([^"]+)"\}')


@dataclass(frozen=True)
class Cut:
    """The log prefix an audit works on: positions 1..`position` of a log whose head was `head`."""

    position: int
    head: int
    description: str

    @property
    def is_head(self) -> bool:
        return self.position >= self.head


def parse_as_of(text: str) -> datetime:
    """A date means the end of that day (UTC); a date-time may carry its offset (naive: UTC)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"as-of: {text!r} is neither YYYY-MM-DD nor an ISO date-time", field="as-of"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def recorded_at(n: Notification, mapper: Any) -> datetime:
    """When the event was recorded (its domain event's timestamp)."""
    match = _TIMESTAMP.match(bytes(n.state))
    if match is not None:
        return datetime.fromisoformat(match.group(1).decode())
    moment: datetime = mapper.to_domain_event(n).timestamp  # compressed, encrypted or reordered
    return moment


def batches(
    recorder: ApplicationRecorder, first: int, last: int, size: int = BATCH
) -> Iterator[Sequence[Notification]]:
    """The stored events at positions first..last, a batch at a time (bounded memory)."""
    start = max(first, 1)
    while start <= last:
        batch = recorder.select_notifications(start=start, limit=size, stop=last)
        if not batch:
            return
        yield batch
        start = batch[-1].id + 1


def last_recorded_by(
    recorder: ApplicationRecorder, mapper: Any, moment: datetime, head: int, size: int = BATCH
) -> int:
    """The last position whose event was recorded at or before `moment` (0 if none). Timestamps
    are taken before the write and may be out of log order by a little, so this scans back from the
    head to the first event recorded by then: everything before it is in the prefix too."""
    high = head
    while high >= 1:
        low = max(1, high - size + 1)
        batch = recorder.select_notifications(start=low, limit=size, stop=high)
        for n in reversed(batch):
            if recorded_at(n, mapper) <= moment:
                return n.id
        high = low - 1
    return 0


def resolve(
    recorder: ApplicationRecorder,
    mapper: Any,
    *,
    until: int | None = None,
    as_of: str | None = None,
    head: int | None = None,
) -> Cut:
    """The cut asked for: at most one of `until` and `as_of`; neither gives the head."""
    if until is not None and as_of is not None:
        raise InvalidInputError("give --until or --as-of, not both", field="until")
    top = head if head is not None else recorder.max_notification_id() or 0
    if until is not None:
        if until < 0:
            raise InvalidInputError("until: a log position is 0 or more", field="until")
        if until > top:
            raise InvalidInputError(f"until: the log ends at position {top}", field="until")
        return Cut(until, top, f"log position {until}")
    if as_of is not None:
        moment = parse_as_of(as_of)
        position = last_recorded_by(recorder, mapper, moment, top)
        return Cut(position, top, f"as recorded by {moment.isoformat()} (log position {position})")
    return Cut(top, top, f"the head of the log (position {top})")
