"""The hash chain over the event log that each month close records, the seal (one digest per
event) that lets `channel audit verify` name the first event altered, removed or inserted, and
the evidence a rebate slip seals (the digests of the events behind it)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import ApplicationRecorder, Notification

from infra import reads

BATCH = 1000
DIGEST_SIZE = 32  # sha256
# Events per seal part: a part (base64 digests) stays near 4.4 kB, an event as small as an order's,
# however many events a month holds; a batch of them read by a catch-up or a replay is no bigger
# than a batch of orders. A month of 250,000 events has 2,500 parts, which the close saves a
# bounded batch at a time.
SEAL_PART = 100
# A slip carries its evidence in its own Issued event up to this many events; a bigger dealer's
# evidence goes into SlipEvidence parts of SEAL_PART each, so no slip event grows with its month.
EVIDENCE_INLINE = SEAL_PART


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


EMPTY_EVIDENCE = chain_of_digests("", ())  # the hash of a slip that rests on no event


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
    """The digests of up to SEAL_PART stored events: `positions` as runs [[first, last], ...]
    (the log may have gaps), `digests` as base64 of the concatenated digests."""

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


def pack(entries: Sequence[tuple[int, bytes]]) -> SealPart:
    runs: list[list[int]] = []
    for position, _ in entries:
        if runs and runs[-1][1] + 1 == position:
            runs[-1][1] = position
        else:
            runs.append([position, position])
    digests = base64.b64encode(b"".join(d for _, d in entries)).decode("ascii")
    return SealPart(runs, digests)


class Sealer:
    """One pass over a close's range: the seal parts as each fills (the close saves them a bounded
    batch at a time, so nothing of the month is held in memory or sent in one save), then the
    chain hash. The parts reproduce the chain hash (so the close authenticates them) and keep one
    digest per event (so a changed, removed or inserted event can be named)."""

    def __init__(self, previous: str) -> None:
        self._hash = hashlib.sha256(previous.encode())
        self._done = False
        self.count = 0  # parts yielded so far

    def parts(self, notifications: Iterable[Notification]) -> Iterator[SealPart]:
        pending: list[tuple[int, bytes]] = []
        for n in notifications:
            digest = event_digest(n)
            self._hash.update(digest)
            pending.append((n.id, digest))
            if len(pending) == SEAL_PART:
                self.count += 1
                yield pack(pending)
                pending = []
        if pending:
            self.count += 1
            yield pack(pending)
        self._done = True

    @property
    def chain_hash(self) -> str:
        if not self._done:
            raise RuntimeError("the chain hash is known once every part has been taken")
        return self._hash.hexdigest()


def seal(previous: str, notifications: Iterable[Notification]) -> tuple[str, list[SealPart]]:
    """The chain hash and all seal parts at once (small ranges, tests, a forger's rewrite)."""
    sealer = Sealer(previous)
    parts = list(sealer.parts(notifications))
    return sealer.chain_hash, parts


# --- reading scattered events, set-based -------------------------------------------------------------


def read_positions(recorder: ApplicationRecorder, positions: Iterable[int]) -> Iterator[Notification]:
    """The stored events at the given positions, in log order, a few hundred positions per query
    however scattered they are (the evidence of all slips of a close, or of all slips verify
    checks, is read in a handful of queries, not one per event); a position with no event is
    skipped."""
    ordered = sorted(set(positions))
    for i in range(0, len(ordered), reads.CHUNK):
        yield from reads.select_at(recorder, ordered[i:i + reads.CHUNK])


def digests_at(recorder: ApplicationRecorder, positions: Iterable[int]) -> dict[int, bytes]:
    """The digest of the stored event at each position that holds one."""
    return {n.id: event_digest(n) for n in read_positions(recorder, positions)}


# --- a slip's evidence -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What a rebate slip seals of the events behind it: `hash`, the chain over their digests from
    an empty start (the slip records it; the dealer can keep it), and the entries themselves —
    `inline` on the slip when there are at most EVIDENCE_INLINE of them, else in `parts`."""

    hash: str
    inline: SealPart
    parts: list[SealPart] = field(default_factory=list)


def evidence_of(entries: Sequence[tuple[int, bytes]]) -> Evidence:
    """The evidence of (position, digest) entries in log order."""
    digest = chain_of_digests("", (d for _, d in entries))
    if len(entries) <= EVIDENCE_INLINE:
        return Evidence(digest, pack(entries))
    parts = [pack(entries[i:i + SEAL_PART]) for i in range(0, len(entries), SEAL_PART)]
    return Evidence(digest, pack([]), parts)
