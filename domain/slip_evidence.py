"""The evidence of a big rebate slip (R5, R7, audit) in parts: the digests of the events behind a
slip whose dealer's month holds too many of them for the slip's own event."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import named_id


class SlipEvidence(Aggregate):
    """Part `part` of `parts` of a slip's evidence, saved before the slip. The slip's
    `evidence_hash` authenticates the parts: the chain over their digests, in part order, must
    give it again. Named by the slip and the part number: the slip's evidence is fixed by the
    close's log position, so an interrupted issue resumes by saving only the parts not yet saved."""

    @staticmethod
    def create_id(slip_id: str, part: int) -> UUID:
        return named_id("slip-evidence", slip_id, part)

    @event("Recorded")
    def __init__(
        self,
        slip_id: str,
        dealer_id: str,
        part: int,
        parts: int,
        positions: list[list[int]],
        digests: str,
    ) -> None:
        self.slip_id = slip_id
        self.dealer_id = dealer_id  # the Kafka key: the dealer the slip concerns
        self.part = part
        self.parts = parts
        self.positions = positions
        self.digests = digests
