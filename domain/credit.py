"""Credit for tier-A dealers: the rating of C2, the line of C3 with its reservations and
receivables, suspension (C4) and overdue receivables (C5)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.dealer import Dealer, DealerStatus, IncidentKind
from domain.errors import RuleViolationError
from domain.ids import named_id
from domain.policy import PolicyVersion
from domain.values import Month, Tier, money


class CreditStatus(StrEnum):
    NONE = "none"
    OPEN = "open"
    SUSPENDED = "suspended"


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (clamped to the month's end)."""
    month = Month.of(day).plus(-months)
    return min(month.first_day.replace(day=1) + timedelta(days=day.day - 1), month.last_day)


def rate_dealer(
    dealer: Dealer, as_of: date, attested: bool, policy: PolicyVersion
) -> tuple[list[int], dict[str, Any]]:
    """C2: which of the five criteria fail on `as_of`, with the figures behind each."""
    if dealer.tier != Tier.A:
        raise RuleViolationError("C1", f"only tier-A dealers can have credit (tier {dealer.tier})")
    failed: list[int] = []
    details: dict[str, Any] = {}

    signed = dealer.status in (DealerStatus.SIGNED, DealerStatus.ACTIVE)
    details["1"] = {"status": dealer.status.value, "met": signed}
    if not signed:
        failed.append(1)

    assert dealer.agreement is not None or not signed
    amount = dealer.agreement["monthly_amount"] if dealer.agreement else Decimal(0)
    months = dealer.qualifying_months(policy.qualifying_months)
    figures = [
        {"month": str(m), "order_value": dealer.order_value(m), "agreed": amount}
        for m in months
    ]
    reached = bool(months) and all(
        dealer.order_value(m) >= amount and m.first_day <= as_of for m in months
    )
    details["2"] = {"months": figures, "met": reached}
    if not reached:
        failed.append(2)

    since = months_before(as_of, policy.clean_months)
    recent = [
        i for i in dealer.incidents
        if i["kind"] in (IncidentKind.BAD_DEBT, IncidentKind.DISPUTE)
        and since < i["occurred_on"] <= as_of
    ]
    details["3"] = {"since": since, "incidents": recent, "met": not recent}
    if recent:
        failed.append(3)

    details["4"] = {"attested": attested, "met": attested}
    if not attested:
        failed.append(4)

    violations = [
        i for i in dealer.incidents
        if i["kind"] == IncidentKind.VIOLATION and i["occurred_on"] <= as_of
    ]
    details["5"] = {"violations": violations, "met": not violations}
    if violations:
        failed.append(5)
    return failed, details


class CreditLine(Aggregate):
    @staticmethod
    def create_id(dealer_id: str) -> UUID:
        return named_id("credit", dealer_id)

    @event("Started")
    def __init__(self, dealer_id: str) -> None:
        self.dealer_id = dealer_id
        self.status = CreditStatus.NONE
        self.limit = Decimal("0.00")
        self.reserved: dict[str, Decimal] = {}
        self.receivables: dict[str, dict[str, Any]] = {}
        self.evaluations: list[dict[str, Any]] = []
        self.suspension: dict[str, Any] | None = None

    @property
    def reserved_total(self) -> Decimal:
        return sum(self.reserved.values(), Decimal("0.00"))

    @property
    def receivable_total(self) -> Decimal:
        return sum((r["amount"] for r in self.receivables.values()), Decimal("0.00"))

    @property
    def available(self) -> Decimal:
        return self.limit - self.reserved_total - self.receivable_total

    def overdue(self, on: date) -> list[str]:
        """C5: receivables still unpaid after their due date."""
        return sorted(
            order_id for order_id, r in self.receivables.items()
            if r["amount"] > 0 and r["due_on"] < on
        )

    def evaluate(
        self,
        as_of: date,
        failed: list[int],
        details: dict[str, Any],
        monthly_amount: Decimal,
        policy: PolicyVersion,
    ) -> None:
        eligible = not failed
        limit = money(monthly_amount * policy.credit_multiple) if eligible else self.limit
        self._evaluate(
            as_of=as_of,
            eligible=eligible,
            failed_criteria=failed,
            details=details,
            limit=limit,
            policy_version=policy.id,
        )

    @event("Evaluated")
    def _evaluate(
        self,
        as_of: date,
        eligible: bool,
        failed_criteria: list[int],
        details: dict[str, Any],
        limit: Decimal,
        policy_version: str,
    ) -> None:
        self.evaluations.append(
            {"as_of": as_of, "eligible": eligible, "failed_criteria": failed_criteria}
        )
        if eligible:
            self.status = CreditStatus.OPEN
            self.limit = limit
            self.suspension = None

    def suspend(self, on: date, reason: str) -> None:
        """C4: an incident suspends the line at once."""
        if self.status == CreditStatus.OPEN:
            self._suspend(on=on, reason=reason)

    @event("Suspended")
    def _suspend(self, on: date, reason: str) -> None:
        self.status = CreditStatus.SUSPENDED
        self.suspension = {"on": on, "reason": reason}

    def check_can_reserve(self, amount: Decimal, order_date: date) -> None:
        if self.status != CreditStatus.OPEN:
            raise RuleViolationError("O4", f"the dealer's credit line is {self.status}")
        overdue = self.overdue(order_date)
        if overdue:
            raise RuleViolationError(
                "C5", f"overdue receivables ({', '.join(overdue)}) block new credit orders"
            )
        if amount > self.available:
            raise RuleViolationError(
                "C3", f"order total {amount} exceeds the available credit {self.available}"
            )

    def reserve(self, order_id: str, amount: Decimal, order_date: date) -> None:
        self.check_can_reserve(amount, order_date)
        self._reserve(order_id=order_id, amount=amount)

    @event("Reserved")
    def _reserve(self, order_id: str, amount: Decimal) -> None:
        self.reserved[order_id] = amount

    def book_receivable(self, order_id: str, delivered_on: date, overdue_days: int) -> None:
        """C3: delivery turns the reservation into a receivable, due after C5's days."""
        if order_id in self.reserved:
            self._book_receivable(
                order_id=order_id,
                amount=self.reserved[order_id],
                delivered_on=delivered_on,
                due_on=delivered_on + timedelta(days=overdue_days),
            )

    @event("ReceivableBooked")
    def _book_receivable(
        self, order_id: str, amount: Decimal, delivered_on: date, due_on: date
    ) -> None:
        self.reserved.pop(order_id, None)
        self.receivables[order_id] = {
            "amount": amount, "delivered_on": delivered_on, "due_on": due_on
        }

    def settle(self, order_id: str, amount: Decimal, on: date, reason: str) -> None:
        """Payment, return or cancellation lowers the exposure of one order."""
        held = self.reserved.get(order_id)
        if held is None and order_id in self.receivables:
            held = self.receivables[order_id]["amount"]
        if not held:
            return
        self._settle(order_id=order_id, amount=min(amount, held), on=on, reason=reason)

    @event("Settled")
    def _settle(self, order_id: str, amount: Decimal, on: date, reason: str) -> None:
        if order_id in self.reserved:
            left = self.reserved[order_id] - amount
            if left > 0:
                self.reserved[order_id] = left
            else:
                del self.reserved[order_id]
        elif order_id in self.receivables:
            self.receivables[order_id]["amount"] -= amount
            if self.receivables[order_id]["amount"] <= 0:
                del self.receivables[order_id]
