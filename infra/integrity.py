"""The hash chain over the event log that each month close records, and the seal (one digest per
event) that lets `channel audit verify` name the first event altered, removed or inserted."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from eventsourcing.persistence import ApplicationRecorder, Notification

BATCH = 1000
DIGEST_SIZE = 32  # sha256
# Events per seal part: a part's payload (base64 digests) stays near 43 kB, well inside an event and
# a Kafka message, however many events a month holds.
SEAL_PART = 1000


def event_digest(n: Notification) -> bytes:
    """What identifies one stored event: position, aggregate, version, type and payload."""
    h = hashlib.sha256()
    h.update(f"{n.id}|{n.originator_id}|{n.originator_version}|{n.topic}|".encode())
    # Text where bytes belong (a hand-edited SQLite row) is hashed as its UTF-8 bytes.
    h.update(n.state.encode() if isinstance(n.state, str) else bytes(n.state))
    return h.digest()


def chain_hash(previous: str, notifications: Iterable[Notification]) -> str:
    """sha256(previous hash, then each event's digest in log order) as hex."""
    return chain_of_digests(previous, (event_digest(n) for n in notifications))


def chain_of_digests(previous: str, digests: Iterable[bytes]) -> str:
    """The chain hash from the events' digests (what a seal holds) instead of the events."""
    h = hashlib.sha256(previous.encode())
    for digest in digests:
        h.update(digest)
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


# --- seals: the per-event digests a close records, so that `audit verify` can name an event --------


@dataclass(frozen=True)
class SealPart:
    """The digests of up to SEAL_PART consecutive stored events: `positions` as runs
    [[first, last], ...] (the log may have gaps), `digests` as base64 of the concatenated digests."""

    positions: list[list[int]]
    digests: str

    def entries(self) -> Iterator[tuple[int, bytes]]:
        """(position, digest) in log order; ValueError if the part is malformed."""
        raw = base64.b64decode(self.digests.encode("ascii"), validate=True)
        ids = [p for first, last in self.positions for p in range(first, last + 1)]
        if len(raw) != len(ids) * DIGEST_SIZE:
            raise ValueError(f"seal part holds {len(raw)} digest bytes for {len(ids)} positions")
        for i, position in enumerate(ids):
            yield position, raw[i * DIGEST_SIZE:(i + 1) * DIGEST_SIZE]


def pack(entries: list[tuple[int, bytes]]) -> SealPart:
    runs: list[list[int]] = []
    for position, _ in entries:
        if runs and runs[-1][1] + 1 == position:
            runs[-1][1] = position
        else:
            runs.append([position, position])
    digests = base64.b64encode(b"".join(d for _, d in entries)).decode("ascii")
    return SealPart(runs, digests)


def seal(previous: str, notifications: Iterable[Notification]) -> tuple[str, list[SealPart]]:
    """One pass over a close's range: the chain hash and the seal parts. The parts reproduce the
    chain hash (so the close authenticates them) and keep one digest per event (so a changed,
    removed or inserted event can be named)."""
    h = hashlib.sha256(previous.encode())
    parts: list[SealPart] = []
    pending: list[tuple[int, bytes]] = []
    for n in notifications:
        digest = event_digest(n)
        h.update(digest)
        pending.append((n.id, digest))
        if len(pending) == SEAL_PART:
            parts.append(pack(pending))
            pending = []
    if pending:
        parts.append(pack(pending))
    return h.hexdigest(), parts


def read_positions(recorder: ApplicationRecorder, positions: Iterable[int]) -> Iterator[Notification]:
    """The stored events at the given positions (ascending), a run of consecutive ones at a time;
    a position with no event is skipped."""
    ordered = sorted(set(positions))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        yield from read_range(recorder, ordered[i], ordered[j])
        i = j + 1


def evidence(recorder: ApplicationRecorder, positions: Iterable[int]) -> tuple[SealPart, str]:
    """The seal of a few scattered events (those behind a rebate slip) and its hash, the chain
    over their digests from an empty start."""
    entries = [(n.id, event_digest(n)) for n in read_positions(recorder, positions)]
    return pack(entries), chain_of_digests("", (d for _, d in entries))
