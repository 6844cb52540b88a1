"""`channel audit verify`: recompute each month close's hash chain over the stored events (read raw,
never through the mapper) and name the first stored event that was altered, removed or inserted.

Each close records `chain_hash = sha256(previous close's hash, digest of every event it covers)` and
saves a seal (LogSeal parts) with each event's digest. The seal is authentic when its digests give
the close's hash again; then merging it with the stored events names each difference. Events after
the last close are covered by nothing yet. The rebate slips' evidence is checked too
(services/audit/slip_check.py); what is found is services/audit/findings.py's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.ids import CALENDAR_ID
from domain.log_seal import LogSeal
from infra import integrity
from services.audit.findings import CloseCheck, Finding, Verification, describe
from services.audit.progress import Progress
from services.audit.slip_check import SlipEvidenceCheck
from services.audit.timeline import batches

# The result types are importable from here, where `channel audit` and the tests look for them.
__all__ = ["CloseCheck", "Finding", "Verification", "Verifier", "describe", "verify"]


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
        SlipEvidenceCheck(self.app).run(result)
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


def verify(app: Application[Any], *, progress: bool = False) -> Verification:
    return Verifier(app, progress=progress).run()
