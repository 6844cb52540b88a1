"""The seal of a month close (O6, audit): the digest of every stored event the close covers, in
parts, saved with the close so that `channel audit verify` can name an altered event."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import named_id


class LogSeal(Aggregate):
    """One part of a close's seal. The close's chain hash authenticates the parts: recomputed from
    their digests it must equal the hash the close recorded."""

    @staticmethod
    def create_id(month: str, part: int) -> UUID:
        return named_id("log-seal", month, part)

    @event("Recorded")
    def __init__(self, month: str, part: int, positions: list[list[int]], digests: str) -> None:
        self.month = month
        self.part = part
        self.positions = positions
        self.digests = digests
