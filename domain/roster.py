"""The roster: who holds the limited tier seats (D4) and which dealer is the repair centre of each
region (S1). One aggregate, so concurrent agreements conflict on its version and the limits hold."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleViolationError
from domain.ids import ROSTER_ID
from domain.values import Tier


class Roster(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return ROSTER_ID

    @event("Opened")
    def __init__(self) -> None:
        self.seats: dict[str, str] = {}  # dealer id -> tier
        self.repair_centres: dict[str, str] = {}  # region -> dealer id

    def seats_taken(self, tier: Tier) -> int:
        return sum(1 for t in self.seats.values() if t == tier.value)

    def take_seat(self, dealer_id: str, tier: Tier, limit: int | None, on: date) -> None:
        """D4: refuse the seat beyond the limit; tiers without a limit hold no seat."""
        if limit is None:
            return
        if self.seats.get(dealer_id) == tier.value:
            return
        if self.seats_taken(tier) >= limit:
            raise RuleViolationError(
                "D4", f"all {limit} tier-{tier} seats are taken", field="tier"
            )
        self._seat_taken(dealer_id=dealer_id, tier=tier.value, on=on)

    @event("SeatTaken")
    def _seat_taken(self, dealer_id: str, tier: str, on: date) -> None:
        self.seats[dealer_id] = tier

    def release_seat(self, dealer_id: str, on: date) -> None:
        if dealer_id in self.seats:
            self._seat_released(dealer_id=dealer_id, tier=self.seats[dealer_id], on=on)

    @event("SeatReleased")
    def _seat_released(self, dealer_id: str, tier: str, on: date) -> None:
        self.seats.pop(dealer_id, None)

    def appoint_repair_centre(self, region: str, dealer_id: str, on: date) -> None:
        """S1: one repair centre per region."""
        holder = self.repair_centres.get(region)
        if holder is not None and holder != dealer_id:
            raise RuleViolationError(
                "S1", f"region {region} already has a repair centre ({holder})"
            )
        self._repair_centre_appointed(region=region, dealer_id=dealer_id, on=on)

    @event("RepairCentreAppointed")
    def _repair_centre_appointed(self, region: str, dealer_id: str, on: date) -> None:
        self.repair_centres[region] = dealer_id

    def release_repair_centre(self, dealer_id: str, on: date) -> None:
        for region, holder in list(self.repair_centres.items()):
            if holder == dealer_id:
                self._repair_centre_released(region=region, dealer_id=dealer_id, on=on)

    @event("RepairCentreReleased")
    def _repair_centre_released(self, region: str, dealer_id: str, on: date) -> None:
        self.repair_centres.pop(region, None)
