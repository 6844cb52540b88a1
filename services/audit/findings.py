"""What `channel audit verify` finds: a finding names a stored event (or a close) that is not as
it was sealed; a close's check and the whole verification gather them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Notification

MAX_LISTED = 20  # differences listed per close; the rest are counted


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
