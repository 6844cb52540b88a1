"""`channel audit verify`: recompute each month close's hash chain over the stored events (read raw,
never through the mapper) and name the first stored event that was altered, removed or inserted.

Each close records `chain_hash = sha256(previous close's hash, digest of every event it covers)` and
saves a seal (LogSeal parts) with each event's digest. The seal is authentic when its digests give
the close's hash again; then merging it with the stored events names each difference. Events after
the last close are covered by nothing yet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.ids import CALENDAR_ID
from domain.log_seal import LogSeal
from domain.rebate_slip import RebateSlip
from domain.slip_evidence import SlipEvidence
from infra import integrity
from services.audit.progress import Progress
from services.audit.timeline import batches

MAX_LISTED = 20  # differences listed per close; the rest are counted
# Sealed entries of the slips checked together: their stored events are read in one pass.
SLIP_GROUP = 50_000


def describe(n: Notification) -> str:
    """`Order.Delivered of 3f2a… v4`: what a stored event claims to be."""
    kind = n.topic.rsplit(":", 1)[-1]
    return f"{kind} of {n.originator_id} v{n.originator_version}"


@dataclass(frozen=True)
class Finding:
    kind: str  # altered, removed, inserted, chain, seal, close, anchor
    message: str
    position: int | None = None  # the stored event named, when one can be named
    month: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "position": self.position, "month": self.month,
                "message": self.message}


@dataclass
class CloseCheck:
    month: str
    covers_from: int
    covers_to: int
    chain_hash: str
    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    more: int = 0  # differences found beyond those listed

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, finding: Finding) -> None:
        if sum(f.position is not None for f in self.findings) >= MAX_LISTED and finding.position:
            self.more += 1
        else:
            self.findings.append(finding)

    def as_dict(self) -> dict[str, Any]:
        return {"month": self.month, "covers_from": self.covers_from, "covers_to": self.covers_to,
                "events": self.events, "chain_hash": self.chain_hash, "ok": self.ok,
                "findings": [f.as_dict() for f in self.findings], "more": self.more}


@dataclass
class Verification:
    head: int
    closes: list[CloseCheck] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # not tied to one close's range
    slips: int = 0  # rebate slips whose evidence was checked

    @property
    def covered_to(self) -> int:
        return self.closes[-1].covers_to if self.closes else 0

    @property
    def uncovered(self) -> tuple[int, int]:
        """Positions after the last close: recorded, but not yet under any hash."""
        return self.covered_to + 1, self.head

    @property
    def all_findings(self) -> list[Finding]:
        return [f for c in self.closes for f in c.findings] + self.findings

    @property
    def ok(self) -> bool:
        return not self.all_findings

    @property
    def first(self) -> Finding | None:
        """The first stored event named (lowest position), else the first finding."""
        named = [f for f in self.all_findings if f.position is not None]
        if named:
            return min(named, key=lambda f: f.position or 0)
        found = self.all_findings
        return found[0] if found else None

    @property
    def last_hash(self) -> str:
        return self.closes[-1].chain_hash if self.closes else ""

    def as_dict(self) -> dict[str, Any]:
        first = self.first
        return {
            "ok": self.ok,
            "head": self.head,
            "covered_to": self.covered_to,
            "uncovered": {"from": self.uncovered[0], "to": self.uncovered[1],
                          "events": max(self.uncovered[1] - self.uncovered[0] + 1, 0)},
            "last_chain_hash": self.last_hash,
            "first": first.as_dict() if first else None,
            "closes": [c.as_dict() for c in self.closes],
            "slips_checked": self.slips,
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class Close:
    """A MonthClosed as stored (decoded: its fields are data to check, not trusted)."""

    month: str
    covers_from: int
    covers_to: int
    previous_hash: str
    chain_hash: str
    seal_parts: int
    version: int


class Verifier:
    def __init__(self, app: Application[Any], *, progress: bool = False) -> None:
        self.app = app
        self.recorder = app.recorder
        self.mapper = app.mapper
        self.progress = progress

    # --- reading what the closes recorded ---------------------------------------------------

    def _closes(self, result: Verification) -> list[Close]:
        closes: list[Close] = []
        expected_version = 1
        for stored in self.recorder.select_events(CALENDAR_ID):
            if stored.originator_version != expected_version:
                result.findings.append(Finding(
                    "close",
                    f"the accounting calendar jumps from version {expected_version - 1} to "
                    f"{stored.originator_version}: a close was removed",
                ))
            expected_version = stored.originator_version + 1
            if not stored.topic.endswith(".MonthClosed"):
                continue
            try:
                e: Any = self.mapper.to_domain_event(stored)
                closes.append(Close(
                    str(e.month), int(e.covers_from), int(e.covers_to), str(e.previous_hash),
                    str(e.chain_hash), int(getattr(e, "seal_parts", 0)), stored.originator_version,
                ))
            except Exception as exc:  # a tampered close that no longer reads is a finding
                result.findings.append(Finding(
                    "close",
                    f"the close at calendar version {stored.originator_version} cannot be read: "
                    f"{type(exc).__name__}: {exc}",
                ))
        return closes

    def _seal(self, close: Close) -> tuple[list[integrity.SealPart] | None, str]:
        """The close's seal parts, or None and why not. A close names its parts after its month
        and the last position it covers; closes recorded by earlier releases after the month
        alone (their parts went out in the close's own save)."""
        parts: list[integrity.SealPart] = []
        scope: int | None = close.covers_to
        if close.seal_parts and not self.recorder.select_events(
            LogSeal.create_id(close.month, 0, scope), limit=1
        ):
            scope = None
        for k in range(close.seal_parts):
            stored = self.recorder.select_events(LogSeal.create_id(close.month, k, scope), limit=1)
            if not stored:
                return None, f"seal part {k} of {close.seal_parts} is missing"
            try:
                e: Any = self.mapper.to_domain_event(stored[0])
                parts.append(integrity.SealPart([list(r) for r in e.positions], str(e.digests)))
            except Exception as exc:
                return None, f"seal part {k} cannot be read: {type(exc).__name__}"
        if close.seal_parts == 0 and close.covers_to >= close.covers_from:
            return None, "the close has no seal"
        return parts, ""

    @staticmethod
    def _entries(parts: list[integrity.SealPart]) -> Iterator[tuple[int, bytes]]:
        for part in parts:
            yield from part.entries()

    # --- checking ---------------------------------------------------------------------------

    def run(self) -> Verification:
        head = self.recorder.max_notification_id() or 0
        result = Verification(head=head)
        closes = self._closes(result)
        bar = Progress("verify", closes[-1].covers_to if closes else 0, enabled=self.progress)
        previous_hash, expected_from = "", 1
        for close in closes:
            check = CloseCheck(close.month, close.covers_from, close.covers_to, close.chain_hash)
            result.closes.append(check)
            if close.previous_hash != previous_hash:
                check.add(Finding("chain", f"the close of {close.month} does not continue the "
                                  "chain: its previous hash is not the hash of the close before",
                                  month=close.month))
            if close.covers_from != expected_from:
                check.add(Finding("chain", f"the close of {close.month} covers from position "
                                  f"{close.covers_from}, not {expected_from}", month=close.month))
            self._check_range(close, check, bar)
            previous_hash, expected_from = close.chain_hash, close.covers_to + 1
        bar.finish()
        self._check_orphan_seal(closes, result)
        self._check_slips(result)
        return result

    def _check_range(self, close: Close, check: CloseCheck, bar: Progress) -> None:
        parts, why = self._seal(close)
        authentic = False
        if parts is not None:
            try:
                digests = (d for _, d in self._entries(parts))
                authentic = integrity.chain_of_digests(close.previous_hash, digests) == close.chain_hash
                why = "" if authentic else "its digests do not give the close's hash"
            except ValueError as exc:
                why = f"it is malformed ({exc})"
        if authentic and parts is not None:
            self._merge(close, check, self._entries(parts), bar)
            return
        # Without an authentic seal the chain still tells whether the range is intact.
        stored = integrity.chain_hash(
            close.previous_hash,
            self._counted(self._stored(close.covers_from, close.covers_to), check, bar),
        )
        if stored == close.chain_hash:
            check.add(Finding("seal", f"the seal of {close.month} is not usable ({why}); the events "
                              "it covers still give the close's hash", month=close.month))
        else:
            check.add(Finding("chain", f"positions {close.covers_from}..{close.covers_to} no longer "
                              f"give the hash the close of {close.month} recorded, and its seal "
                              f"cannot name the event ({why})", month=close.month))

    def _stored(self, first: int, last: int) -> Iterator[Notification]:
        for batch in batches(self.recorder, first, last):
            yield from batch

    @staticmethod
    def _counted(
        events: Iterator[Notification], check: CloseCheck, bar: Progress
    ) -> Iterator[Notification]:
        for n in events:
            check.events += 1
            bar.advance(1)
            yield n

    def _merge(
        self, close: Close, check: CloseCheck, sealed: Iterator[tuple[int, bytes]], bar: Progress
    ) -> None:
        """Walk the seal and the stored range together, in position order."""
        month = close.month
        stored = self._counted(self._stored(close.covers_from, close.covers_to), check, bar)
        s = next(sealed, None)
        n = next(stored, None)
        while s is not None or n is not None:
            if n is None or (s is not None and s[0] < n.id):
                assert s is not None
                check.add(Finding("removed", f"position {s[0]} was removed: the close of {month} "
                                  "sealed an event there", position=s[0], month=month))
                s = next(sealed, None)
            elif s is None or n.id < s[0]:
                check.add(Finding("inserted", f"position {n.id} ({describe(n)}) was inserted: the "
                                  f"close of {month} sealed no event there", position=n.id,
                                  month=month))
                n = next(stored, None)
            else:
                if integrity.event_digest(n) != s[1]:
                    check.add(Finding("altered", f"position {n.id} ({describe(n)}) was altered: it "
                                      f"differs from what the close of {month} sealed",
                                      position=n.id, month=month))
                s, n = next(sealed, None), next(stored, None)

    def _check_orphan_seal(self, closes: list[Close], result: Verification) -> None:
        """Seal parts after the last close for a month that no close records: the close was
        removed — or a close attempt stopped before recording its close (closing the month again
        then covers them). Parts of attempts a later close superseded lie inside that close's
        range: they are events it sealed, like any other."""
        closed = {c.month for c in closes}
        orphans: dict[str, int] = {}
        topic = f"{LogSeal.__module__}:LogSeal.Recorded"
        start = (closes[-1].covers_to if closes else 0) + 1
        while True:
            found = self.recorder.select_notifications(start=start, limit=1000, topics=[topic])
            if not found:
                break
            for n in found:
                try:
                    event: Any = self.mapper.to_domain_event(n)
                    month = str(event.month)
                except Exception:
                    month = "?"
                if month not in closed:
                    orphans[month] = orphans.get(month, 0) + 1
            start = found[-1].id + 1
        for month, count in sorted(orphans.items()):
            result.findings.append(Finding(
                "close", f"{count} seal part(s) of {month} are stored but no close of {month} is: "
                f"the close of {month} was removed, or a close stopped before recording it",
                month=month,
            ))

    # --- the rebate slips' evidence -------------------------------------------------------------

    def _check_slips(self, result: Verification) -> None:
        """Each slip sealed the digests of the events behind it: they must still be stored as
        they were. Names the slips an alteration touches (their money rests on it). The stored
        events behind a group of slips are read together, not slip by slip."""
        topic = f"{RebateSlip.__module__}:RebateSlip.Issued"
        start = 1
        group: list[tuple[str, list[tuple[int, bytes]]]] = []
        size = 0
        while True:
            found = self.recorder.select_notifications(start=start, limit=500, topics=[topic])
            for n in found:
                result.slips += 1
                sealed = self._slip_evidence(n, result)
                if sealed is not None:
                    group.append(sealed)
                    size += len(sealed[1])
                if size >= SLIP_GROUP:
                    self._check_group(group, result)
                    group, size = [], 0
            if not found:
                self._check_group(group, result)
                return
            start = found[-1].id + 1

    def _slip_evidence(
        self, n: Notification, result: Verification
    ) -> tuple[str, list[tuple[int, bytes]]] | None:
        """(label, sealed entries) of the slip at `n`, if its evidence gives its hash."""
        try:
            e: Any = self.mapper.to_domain_event(n)
            label = f"the rebate slip of {e.period} for dealer {e.dealer_id}"
            inline = integrity.SealPart([list(r) for r in e.evidence_positions or []],
                                        str(e.evidence_digests))
            sealed = list(inline.entries())
            evidence_hash = str(e.evidence_hash)
        except Exception as exc:
            result.findings.append(Finding(
                "slip", f"the rebate slip at position {n.id} cannot be read: {type(exc).__name__}"))
            return None
        if not sealed and evidence_hash != integrity.EMPTY_EVIDENCE:
            # Nothing inline, yet a hash of something: a big dealer's evidence, in parts.
            sealed, why = self._slip_parts(str(n.originator_id))
            if why:
                result.findings.append(Finding(
                    "slip", f"{label} (position {n.id}): its evidence {why}"))
        if integrity.chain_of_digests("", (d for _, d in sealed)) != evidence_hash:
            result.findings.append(Finding(
                "slip", f"{label} (position {n.id}): its evidence does not give its hash"))
        return label, sealed

    def _slip_parts(self, slip_id: str) -> tuple[list[tuple[int, bytes]], str]:
        """The entries of a slip's SlipEvidence parts, and what is wrong with them ("" if
        nothing); the slip's hash then says whether they are the ones it sealed."""
        entries: list[tuple[int, bytes]] = []
        count, k = 1, 0
        while k < count:
            stored = self.recorder.select_events(SlipEvidence.create_id(slip_id, k), limit=1)
            if not stored:
                return entries, f"part {k} is missing"
            try:
                e: Any = self.mapper.to_domain_event(stored[0])
                count = int(e.parts) if k == 0 else count
                part = integrity.SealPart([list(r) for r in e.positions], str(e.digests))
                entries.extend(part.entries())
            except Exception as exc:
                return entries, f"part {k} cannot be read: {type(exc).__name__}"
            k += 1
        return entries, ""

    def _check_group(
        self, group: list[tuple[str, list[tuple[int, bytes]]]], result: Verification
    ) -> None:
        positions = {p for _, sealed in group for p, _ in sealed}
        stored = {m.id: (integrity.event_digest(m), m)
                  for m in integrity.read_positions(self.recorder, positions)}
        for label, sealed in group:
            for position, digest in sealed:
                found = stored.get(position)
                if found is None:
                    result.findings.append(Finding(
                        "removed", f"position {position} was removed: {label} rests on it",
                        position=position))
                elif found[0] != digest:
                    result.findings.append(Finding(
                        "altered", f"position {position} ({describe(found[1])}) was altered: "
                        f"{label} rests on it", position=position))


def verify(app: Application[Any], *, progress: bool = False) -> Verification:
    return Verifier(app, progress=progress).run()
