"""The hash chain over the event log that each month close records (audit: verify)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from eventsourcing.persistence import ApplicationRecorder, Notification

BATCH = 1000


def event_digest(n: Notification) -> bytes:
    """What identifies one stored event: position, aggregate, version, type and payload."""
    h = hashlib.sha256()
    h.update(f"{n.id}|{n.originator_id}|{n.originator_version}|{n.topic}|".encode())
    h.update(bytes(n.state))
    return h.digest()


def chain_hash(previous: str, notifications: Iterable[Notification]) -> str:
    """sha256(previous hash, then each event's digest in log order) as hex."""
    h = hashlib.sha256(previous.encode())
    for n in notifications:
        h.update(event_digest(n))
    return h.hexdigest()


def read_range(recorder: ApplicationRecorder, first: int, last: int) -> Iterable[Notification]:
    """Stored events with positions first..last, in batches."""
    start = first
    while start <= last:
        batch = recorder.select_notifications(start=start, limit=BATCH, stop=last)
        if not batch:
            return
        yield from batch
        start = batch[-1].id + 1
