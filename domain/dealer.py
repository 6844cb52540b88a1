"""The dealer aggregate: registration, the onboarding steps of D2/D3, tier, salesperson,
incidents and termination."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInputError, RuleViolationError
from domain.lines import ForecastMonth, upcast_lines
from domain.values import Month, Tier


class DealerStatus(StrEnum):
    REGISTERED = "registered"
    DRAFT_SIGNED = "draft_signed"
    FORECAST_SUBMITTED = "forecast_submitted"
    SIGNED = "signed"  # formal agreement signed, waiting for the first order (D3)
    ACTIVE = "active"
    TERMINATED = "terminated"


class IncidentKind(StrEnum):
    VIOLATION = "violation"
    BAD_DEBT = "bad_debt"
    DISPUTE = "dispute"


_ONBOARDING = (
    DealerStatus.REGISTERED,
    DealerStatus.DRAFT_SIGNED,
    DealerStatus.FORECAST_SUBMITTED,
    DealerStatus.SIGNED,
    DealerStatus.ACTIVE,
)


class Dealer(Aggregate):
    @event("Registered")
    def __init__(
        self,
        name: str,
        region: str,
        tier: str,
        salesperson: str,
        contact: str,
        registered_on: date,
    ) -> None:
        self.name = name
        self.region = region
        self.tier = Tier(tier)
        self.salesperson = salesperson
        self.contact = contact
        self.registered_on = registered_on
        self.status = DealerStatus.REGISTERED
        self.draft_signed_on: date | None = None
        self.forecasts: dict[str, Decimal] = {}
        self.agreement: dict[str, Any] | None = None
        self.first_order_id: str | None = None
        self.qualifying_orders: dict[str, tuple[str, Decimal]] = {}
        self.incidents: list[dict[str, Any]] = []
        self.salesperson_history: list[tuple[date, str]] = [(registered_on, salesperson)]
        self.tier_history: list[tuple[date, Tier]] = [(registered_on, self.tier)]
        self.repair_centre_since: date | None = None
        self.terminated_on: date | None = None

    # --- checks -----------------------------------------------------------------------------

    @property
    def is_terminated(self) -> bool:
        return self.status == DealerStatus.TERMINATED

    def check_not_terminated(self, rule: str = "D7") -> None:
        if self.is_terminated:
            raise RuleViolationError(rule, f"dealer {self.id} was terminated on {self.terminated_on}")

    def check_may_order(self, order_date: date) -> None:
        """O2: a formal agreement (or tier END), not terminated, within the agreement's term."""
        self.check_not_terminated("O2")
        if self.tier == Tier.END:
            return
        if self.status not in (DealerStatus.SIGNED, DealerStatus.ACTIVE):
            raise RuleViolationError(
                "O2", f"dealer {self.id} has no formal agreement yet (status {self.status})"
            )
        assert self.agreement is not None
        if order_date < self.agreement["signed_on"]:
            raise RuleViolationError(
                "O2", "order_date is before the formal agreement was signed", field="order_date"
            )
        if self.agreement_end is not None and order_date > self.agreement_end:
            raise RuleViolationError(
                "O2", f"the agreement ended on {self.agreement_end}", field="order_date"
            )

    @property
    def agreement_end(self) -> date | None:
        if not self.agreement or not self.agreement.get("start_month"):
            return None
        start = Month.parse(self.agreement["start_month"])
        return start.plus(int(self.agreement["term_months"]) - 1).last_day

    @property
    def holds_seat(self) -> bool:
        """D4: a seat is held from the formal agreement until termination."""
        return self.status in (DealerStatus.SIGNED, DealerStatus.ACTIVE)

    def salesperson_on(self, day: date) -> str:
        """D8: the salesperson who owned the dealer on that day."""
        owner = self.salesperson_history[0][1]
        for since, salesperson in self.salesperson_history:
            if since <= day:
                owner = salesperson
        return owner

    def tier_on(self, day: date) -> Tier:
        current = self.tier_history[0][1]
        for since, tier in self.tier_history:
            if since <= day:
                current = tier
        return current

    def qualifying_months(self, count: int) -> list[Month]:
        """C2(2): the first months of the agreement."""
        if not self.agreement or not self.agreement.get("start_month"):
            return []
        start = Month.parse(self.agreement["start_month"])
        return [start.plus(i) for i in range(count)]

    def order_value(self, month: Month) -> Decimal:
        return sum(
            (amount for m, amount in self.qualifying_orders.values() if m == str(month)),
            Decimal(0),
        )

    # --- onboarding (D2, D3) ------------------------------------------------------------------

    def sign_draft_agreement(self, signed_on: date) -> None:
        self.check_not_terminated()
        if self.tier == Tier.END:
            raise RuleViolationError("D2", "industry customers (tier END) sign no agreement")
        if self.status != DealerStatus.REGISTERED:
            raise RuleViolationError("D2", f"the draft agreement is already signed ({self.status})")
        if signed_on < self.registered_on:
            raise RuleViolationError(
                "D2", "signed_on is before the registration", field="signed_on"
            )
        self._sign_draft(signed_on=signed_on)

    @event("DraftAgreementSigned")
    def _sign_draft(self, signed_on: date) -> None:
        self.draft_signed_on = signed_on
        self.status = DealerStatus.DRAFT_SIGNED

    def submit_forecast(self, months: list[tuple[Month, Decimal]], min_months: int) -> None:
        self.check_not_terminated()
        if self.tier == Tier.END:
            raise RuleViolationError("D2", "industry customers (tier END) submit no forecast")
        if self.status == DealerStatus.REGISTERED:
            raise RuleViolationError("D2", "a forecast follows the draft agreement; sign it first")
        if len(months) < min_months:
            raise RuleViolationError(
                "D2", f"a forecast covers at least {min_months} months", field="months"
            )
        ordered = sorted(m for m, _ in months)
        if len(set(ordered)) != len(ordered):  # D2: one amount per month of the forecast
            raise RuleViolationError("D2", "months: a month appears twice", field="months")
        if any(b != a.next() for a, b in pairwise(ordered)):
            raise RuleViolationError("D2", "forecast months must be consecutive", field="months")
        assert self.draft_signed_on is not None
        if ordered[0] < Month.of(self.draft_signed_on):
            raise RuleViolationError(
                "D2", "a forecast covers months from the draft agreement on", field="months"
            )
        for _, amount in months:
            if amount < 0:
                raise InvalidInputError("months.amount: must not be negative", field="months")
        self._submit_forecast(months=[ForecastMonth(str(m), a) for m, a in sorted(months)])

    class ForecastSubmitted(Aggregate.Event):
        """D2's forecast. Version 2: months are `ForecastMonth`s."""

        class_version = 2
        upcast_v1_v2 = staticmethod(upcast_lines(ForecastMonth, "months"))
        months: list[ForecastMonth]

    @event(ForecastSubmitted)
    def _submit_forecast(self, months: list[ForecastMonth]) -> None:
        for item in months:
            self.forecasts[item.month] = item.amount
        if self.status == DealerStatus.DRAFT_SIGNED:
            self.status = DealerStatus.FORECAST_SUBMITTED

    def sign_formal_agreement(
        self, signed_on: date, monthly_amount: Decimal, term_months: int
    ) -> None:
        self.check_not_terminated()
        if self.tier == Tier.END:
            raise RuleViolationError("D2", "industry customers (tier END) sign no agreement")
        if self.status in (DealerStatus.REGISTERED, DealerStatus.DRAFT_SIGNED):
            raise RuleViolationError(
                "D2", f"the formal agreement needs a draft and a forecast first ({self.status})"
            )
        if self.status != DealerStatus.FORECAST_SUBMITTED:
            raise RuleViolationError("D2", "the formal agreement is already signed")
        assert self.draft_signed_on is not None
        if signed_on < self.draft_signed_on:
            raise RuleViolationError(
                "D2", "signed_on is before the draft agreement", field="signed_on"
            )
        if monthly_amount <= 0:
            raise InvalidInputError("monthly_amount: must be positive", field="monthly_amount")
        if term_months <= 0:
            raise InvalidInputError("term_months: must be positive", field="term_months")
        self._sign_formal(
            signed_on=signed_on,
            tier=self.tier.value,
            region=self.region,
            monthly_amount=monthly_amount,
            term_months=term_months,
        )

    @event("FormalAgreementSigned")
    def _sign_formal(
        self, signed_on: date, tier: str, region: str, monthly_amount: Decimal, term_months: int
    ) -> None:
        self.agreement = {
            "signed_on": signed_on,
            "tier": tier,
            "region": region,
            "monthly_amount": monthly_amount,
            "term_months": term_months,
            "start_month": None,
        }
        self.status = DealerStatus.SIGNED

    def take_effect(self, order_id: str, order_date: date) -> None:
        """D3: the first confirmed order puts the agreement into effect; no-op afterwards."""
        if self.status != DealerStatus.SIGNED:
            return
        self._take_effect(order_id=order_id, start_month=str(Month.of(order_date)))

    @event("AgreementTookEffect")
    def _take_effect(self, order_id: str, start_month: str) -> None:
        assert self.agreement is not None
        self.agreement["start_month"] = start_month
        self.first_order_id = order_id
        self.status = DealerStatus.ACTIVE

    def count_order_value(
        self, order_id: str, order_date: date, amount: Decimal, qualifying_months: int
    ) -> bool:
        """C2(2) needs the order value of the agreement's first months; only those are kept."""
        month = Month.of(order_date)
        if month not in self.qualifying_months(qualifying_months) or order_id in self.qualifying_orders:
            return False
        self._count_order_value(order_id=order_id, month=str(month), amount=amount)
        return True

    @event("OrderValueCounted")
    def _count_order_value(self, order_id: str, month: str, amount: Decimal) -> None:
        self.qualifying_orders[order_id] = (month, amount)

    def withdraw_order_value(self, order_id: str) -> bool:
        if order_id not in self.qualifying_orders:
            return False
        self._withdraw_order_value(order_id=order_id)
        return True

    @event("OrderValueWithdrawn")
    def _withdraw_order_value(self, order_id: str) -> None:
        self.qualifying_orders.pop(order_id, None)

    # --- changes during the relationship -------------------------------------------------------

    def change_tier(self, tier: Tier, reason: str, effective_on: date) -> None:
        self.check_not_terminated()
        if self.tier == Tier.END or tier == Tier.END:
            raise RuleViolationError("D6", "industry customers (tier END) do not change tier")
        if tier == self.tier:
            raise RuleViolationError("D6", f"the dealer is already tier {tier}", field="tier")
        if not reason.strip():
            raise InvalidInputError("reason: a tier change needs a reason", field="reason")
        if effective_on < self.tier_history[-1][0]:
            raise RuleViolationError(
                "D6", "effective_on is before the last tier change", field="effective_on"
            )
        self._change_tier(
            from_tier=self.tier.value, tier=tier.value, reason=reason, effective_on=effective_on
        )

    @event("TierChanged")
    def _change_tier(self, from_tier: str, tier: str, reason: str, effective_on: date) -> None:
        self.tier = Tier(tier)
        self.tier_history.append((effective_on, self.tier))
        if self.tier != Tier.A:
            self.repair_centre_since = None  # S1: the application closes the pool
        if self.agreement is not None:
            self.agreement["tier"] = tier

    def reassign(self, salesperson: str, effective_on: date) -> None:
        self.check_not_terminated()
        if not salesperson.strip():
            raise InvalidInputError("salesperson: must not be empty", field="salesperson")
        if effective_on < self.salesperson_history[-1][0]:
            raise RuleViolationError(
                "D8", "effective_on is before the last reassignment", field="effective_on"
            )
        if salesperson == self.salesperson:
            raise RuleViolationError("D8", f"the dealer already belongs to {salesperson}")
        self._reassign(
            from_salesperson=self.salesperson, salesperson=salesperson, effective_on=effective_on
        )

    @event("Reassigned")
    def _reassign(self, from_salesperson: str, salesperson: str, effective_on: date) -> None:
        self.salesperson = salesperson
        self.salesperson_history.append((effective_on, salesperson))

    def record_incident(self, kind: IncidentKind, occurred_on: date, note: str) -> None:
        if occurred_on < self.registered_on:
            raise RuleViolationError(
                "D7", "occurred_on is before the registration", field="occurred_on"
            )
        self._record_incident(kind=kind.value, occurred_on=occurred_on, note=note)

    @event("IncidentRecorded")
    def _record_incident(self, kind: str, occurred_on: date, note: str) -> None:
        self.incidents.append({"kind": kind, "occurred_on": occurred_on, "note": note})

    def terminate(self, terminated_on: date, reason: str) -> None:
        self.check_not_terminated()
        if terminated_on < self.registered_on:
            raise RuleViolationError(
                "D7", "terminated_on is before the registration", field="terminated_on"
            )
        if not reason.strip():
            raise InvalidInputError("reason: a termination needs a reason", field="reason")
        self._terminate(terminated_on=terminated_on, reason=reason, tier=self.tier.value)

    @event("Terminated")
    def _terminate(self, terminated_on: date, reason: str, tier: str) -> None:
        self.status = DealerStatus.TERMINATED
        self.terminated_on = terminated_on

    def authorize_repair_centre(self, signed_on: date) -> None:
        self.check_not_terminated()
        if self.tier != Tier.A:
            raise RuleViolationError("S1", "only a tier-A dealer can be a repair centre")
        if not self.holds_seat:
            raise RuleViolationError("S1", "a repair centre needs a signed formal agreement")
        if self.repair_centre_since is not None:
            raise RuleViolationError("S1", "the dealer already is an authorized repair centre")
        self._authorize_repair_centre(signed_on=signed_on, region=self.region)

    @event("RepairCentreAuthorized")
    def _authorize_repair_centre(self, signed_on: date, region: str) -> None:
        self.repair_centre_since = signed_on
