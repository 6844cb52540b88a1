"""`channel audit verify`, the rebate slips' part: each slip sealed the digests of the events its
money rests on (inline, or in SlipEvidence parts for a big dealer); they must still be stored as
they were."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.rebate_slip import RebateSlip
from domain.slip_evidence import SlipEvidence
from infra import integrity
from services.audit.findings import Finding, Verification, describe

# Sealed entries of the slips checked together: their stored events are read in one pass.
SLIP_GROUP = 50_000


class SlipEvidenceCheck:
    """Adds to a verification the slips whose evidence no longer holds (read raw from the store,
    like the closes' ranges)."""

    def __init__(self, app: Application[Any]) -> None:
        self.recorder = app.recorder
        self.mapper = app.mapper

    def run(self, result: Verification) -> None:
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
                sealed = self._evidence(n, result)
                if sealed is not None:
                    group.append(sealed)
                    size += len(sealed[1])
                if size >= SLIP_GROUP:
                    self._check(group, result)
                    group, size = [], 0
            if not found:
                self._check(group, result)
                return
            start = found[-1].id + 1

    def _evidence(
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
            sealed, why = self._parts(str(n.originator_id))
            if why:
                result.findings.append(Finding(
                    "slip", f"{label} (position {n.id}): its evidence {why}"))
        if integrity.chain_of_digests("", (d for _, d in sealed)) != evidence_hash:
            result.findings.append(Finding(
                "slip", f"{label} (position {n.id}): its evidence does not give its hash"))
        return label, sealed

    def _parts(self, slip_id: str) -> tuple[list[tuple[int, bytes]], str]:
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

    def _check(
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
