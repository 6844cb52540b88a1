"""The rebate confirmation slip (返点确认单, R5/R6): a record of its own per dealer and closed
month, which the dealer confirms or disputes line by line and finance resolves."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from domain.ids import named_id
from domain.lines import DisputedLine, upcast_lines
from domain.values import money


class SlipStatus(StrEnum):
    ISSUED = "issued"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"  # at least one dispute waits for finance
    RESOLVED = "resolved"  # every dispute decided; the dealer may confirm or dispute other lines


class RebateSlip(Aggregate):
    @staticmethod
    def create_id(dealer_id: str, period: str) -> UUID:
        """One slip per dealer and closed month: a replayed close issues nothing twice."""
        return named_id("rebate-slip", dealer_id, period)

    @event("Issued")
    def __init__(
        self,
        dealer_id: str,
        period: str,
        issued_on: date,
        close_position: int,
        lines: list[dict[str, Any]],
        evidence_positions: list[list[int]] | None = None,
        evidence_digests: str = "",
        evidence_hash: str = "",
    ) -> None:
        self.dealer_id = dealer_id
        self.period = period
        self.issued_on = issued_on
        self.close_position = close_position
        self.lines = lines
        # Audit: the digests of the events behind the slip (runs of positions, base64 digests) and
        # their chain hash, which the dealer can keep; `channel audit verify` checks them. A big
        # dealer's evidence is not inline (both fields empty, the hash over all of it): it is in
        # SlipEvidence parts saved before the slip, so that no slip event grows with its month.
        self.evidence_positions = evidence_positions or []
        self.evidence_digests = evidence_digests
        self.evidence_hash = evidence_hash
        self.status = SlipStatus.ISSUED
        self.disputes: list[dict[str, Any]] = []
        self.confirmed_on: date | None = None

    @property
    def total(self) -> Decimal:
        return sum((Decimal(line["amount"]) for line in self.lines), Decimal("0.00"))

    def disputed_lines(self) -> set[int]:
        return {item.line for d in self.disputes for item in d["lines"]}

    def open_disputes(self) -> list[int]:
        return [d["dispute"] for d in self.disputes if d["resolution"] is None]

    # --- the dealer's answer (R6) ---------------------------------------------------------

    def confirm(self, confirmed_on: date) -> None:
        if self.status == SlipStatus.CONFIRMED:
            raise RuleViolationError("R6", f"slip {self.id} is already confirmed")
        if self.status == SlipStatus.DISPUTED:
            raise RuleViolationError(
                "R6", f"slip {self.id} has open disputes {self.open_disputes()}; finance decides first"
            )
        if confirmed_on < self.issued_on:
            raise RuleViolationError("R6", "confirmed_on is before the slip was issued", field="confirmed_on")
        self._confirm(confirmed_on=confirmed_on)

    @event("Confirmed")
    def _confirm(self, confirmed_on: date) -> None:
        self.status = SlipStatus.CONFIRMED
        self.confirmed_on = confirmed_on

    def dispute(self, lines: list[dict[str, Any]], disputed_on: date) -> int:
        """Dispute lines of the slip, each with a reason; returns the dispute's number."""
        if self.status == SlipStatus.CONFIRMED:
            raise RuleViolationError("R6", f"slip {self.id} is confirmed; it can no longer be disputed")
        if not lines:
            raise InvalidInputError("lines: name at least one line to dispute", field="lines")
        numbers = {line["line"] for line in self.lines}
        already = self.disputed_lines()
        items: list[DisputedLine] = []
        for index, item in enumerate(lines):
            try:
                number = int(item["line"])
            except (KeyError, TypeError, ValueError):
                raise InvalidInputError(
                    f"lines[{index}].line: a line number of the slip", field="lines"
                ) from None
            reason = str(item.get("reason") or "").strip()
            if number not in numbers:  # an unknown id, like an unknown slip
                raise NotFoundError(f"lines[{index}].line: the slip has no line {number}")
            if not reason:
                raise InvalidInputError(f"lines[{index}].reason: give a reason", field="lines")
            if number in already or any(i.line == number for i in items):
                raise RuleViolationError("R6", f"line {number} is already disputed", field="lines")
            items.append(DisputedLine(number, reason))
        if disputed_on < self.issued_on:
            raise RuleViolationError("R6", "disputed_on is before the slip was issued", field="disputed_on")
        number = len(self.disputes) + 1
        self._dispute(dispute=number, lines=items, disputed_on=disputed_on)
        return number

    class Disputed(Aggregate.Event):
        """The dealer disputes lines (R6). Version 2: lines are `DisputedLine`s."""

        class_version = 2
        upcast_v1_v2 = staticmethod(upcast_lines(DisputedLine))
        dispute: int
        lines: list[DisputedLine]
        disputed_on: date

    @event(Disputed)
    def _dispute(self, dispute: int, lines: list[DisputedLine], disputed_on: date) -> None:
        self.disputes.append(
            {"dispute": dispute, "lines": lines, "disputed_on": disputed_on, "resolution": None}
        )
        self.status = SlipStatus.DISPUTED

    # --- finance's decision (R6) ------------------------------------------------------------

    def resolve(
        self,
        dispute: int,
        accept: bool,
        amount: Decimal | None,
        note: str,
        resolved_on: date,
        period: str,
        policy_version: str,
    ) -> None:
        """Accept with a correcting amount booked in the open `period`, or reject with a reason."""
        found = next((d for d in self.disputes if d["dispute"] == dispute), None)
        if found is None:  # an unknown id, like an unknown slip
            raise NotFoundError(f"dispute: slip {self.id} has no dispute {dispute}")
        if found["resolution"] is not None:
            raise RuleViolationError("R6", f"dispute {dispute} is already resolved", field="dispute")
        if resolved_on < found["disputed_on"]:
            raise RuleViolationError("R6", "resolved_on is before the dispute", field="resolved_on")
        note = note.strip()
        if accept:
            if amount is None:
                raise InvalidInputError(
                    "amount: an accepted dispute needs the correcting amount", field="amount"
                )
            if amount == 0:
                raise InvalidInputError("amount: a correction must not be zero", field="amount")
            if amount != money(amount):
                raise InvalidInputError("amount: at most two decimal places", field="amount")
        else:
            if not note:
                raise InvalidInputError("note: a rejected dispute needs a reason", field="note")
            amount = None
        self._resolve(
            dispute=dispute,
            accept=accept,
            amount=amount,
            note=note,
            resolved_on=resolved_on,
            period=period,
            policy_version=policy_version,
        )

    @event("DisputeResolved")
    def _resolve(
        self,
        dispute: int,
        accept: bool,
        amount: Decimal | None,
        note: str,
        resolved_on: date,
        period: str,
        policy_version: str,
    ) -> None:
        for item in self.disputes:
            if item["dispute"] == dispute:
                item["resolution"] = {
                    "accept": accept,
                    "amount": amount,
                    "note": note,
                    "resolved_on": resolved_on,
                    "period": period,
                }
        if not self.open_disputes():
            self.status = SlipStatus.RESOLVED
