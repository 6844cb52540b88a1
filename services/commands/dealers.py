"""Dealer commands (D1–D9): registration, onboarding, tier seats (D4, D6), reassignment,
incidents, termination, and the repair-centre agreement (S1)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from domain import limits
from domain.credit import CreditLine
from domain.dealer import Dealer, IncidentKind
from domain.errors import InvalidInputError, RuleViolationError
from domain.policy import PolicyVersion
from domain.roster import Roster
from domain.spare_parts import SparePartsPool
from domain.values import Month, Tier, to_decimal, to_whole
from services.commands.base import Done, LedgerBase, check_filled, command, parse_choice


class DealerCommands(LedgerBase):
    def get_roster(self) -> Roster:
        return self._get_or(Roster, Roster.create_id(), Roster)

    def _rated_credit_line(self, dealer_id: str) -> CreditLine | None:
        """The dealer's credit line if it was ever rated, else None (C4 suspends only those)."""
        return self._find(CreditLine, CreditLine.create_id(dealer_id))

    @command
    def register_dealer(
        self,
        name: str,
        region: str,
        tier: str,
        salesperson: str,
        contact: str,
        registered_on: date | None = None,
    ) -> Done[Dealer]:
        for field_name, value in (
            ("name", name), ("region", region), ("salesperson", salesperson), ("contact", contact)
        ):
            check_filled(value, field_name)
        dealer = Dealer(
            name=name.strip(),
            region=region.strip(),
            tier=Tier.parse(tier).value,
            salesperson=salesperson.strip(),
            contact=contact.strip(),
            registered_on=registered_on or self.clock(),
        )
        return Done(dealer, self._save(dealer), created=True)

    @command
    def sign_draft_agreement(self, dealer_id: str, signed_on: date | None = None) -> Done[Dealer]:
        dealer = self.get_dealer(dealer_id)
        dealer.sign_draft_agreement(signed_on or self.clock())
        return Done(dealer, self._save(dealer))

    @command
    def submit_forecast(
        self, dealer_id: str, months: Iterable[tuple[str | Month, Decimal | str]]
    ) -> Done[Dealer]:
        dealer = self.get_dealer(dealer_id)
        given = list(months)
        if len(given) > limits.MAX_FORECAST_MONTHS:
            raise InvalidInputError(
                f"months: a forecast covers at most {limits.MAX_FORECAST_MONTHS} months",
                field="months",
            )
        policy = self.policy.in_force(dealer.draft_signed_on or dealer.registered_on)
        parsed = []
        for index, (m, a) in enumerate(given):
            month = m if isinstance(m, Month) else Month.parse(m, f"months[{index}].month")
            limits.check_month(month, f"months[{index}].month")
            amount = self._monthly_amount(a, f"months[{index}].amount", policy)
            parsed.append((month, amount))
        dealer.submit_forecast(parsed, policy.forecast_months)
        return Done(dealer, self._save(dealer))

    @command
    def sign_formal_agreement(
        self,
        dealer_id: str,
        signed_on: date | None,
        monthly_amount: Decimal | str,
        term_months: int,
    ) -> Done[Dealer]:
        """D2 + D4: the agreement takes the tier's seat, refused when all are taken."""
        dealer = self.get_dealer(dealer_id)
        signed_on = signed_on or self.clock()
        policy = self.policy.in_force(signed_on)
        term = to_whole(term_months, "term_months")
        if term > policy.max_term_months:
            raise RuleViolationError(
                "O1", f"term_months: at most {policy.max_term_months} months ({term} given)",
                field="term_months",
            )
        dealer.sign_formal_agreement(
            signed_on, self._monthly_amount(monthly_amount, "monthly_amount", policy), term
        )
        roster = self.get_roster()
        limit = policy.seat_limit(dealer.tier)
        roster.take_seat(str(dealer.id), dealer.tier, limit, signed_on)
        return Done(dealer, self._save(dealer, roster))

    @staticmethod
    def _monthly_amount(value: object, field: str, policy: PolicyVersion) -> Decimal:
        """D2: a forecast or agreed monthly amount within the policy's bound (O1: the credit limit
        of C3 is this amount times the credit multiple)."""
        amount = to_decimal(value, field)
        if amount > policy.max_monthly_amount:
            raise RuleViolationError(
                "O1", f"{field}: {amount} is above the highest monthly amount "
                f"{policy.max_monthly_amount}", field=field,
            )
        return amount

    @command
    def change_tier(
        self, dealer_id: str, tier: str, reason: str, effective_on: date | None = None
    ) -> Done[Dealer]:
        """D6: a tier change moves the dealer's seat and obeys D4."""
        dealer = self.get_dealer(dealer_id)
        effective_on = effective_on or self.clock()
        new_tier = Tier.parse(tier)
        was_repair_centre = dealer.repair_centre_since is not None
        dealer.change_tier(new_tier, reason, effective_on)
        roster = self.get_roster()
        if dealer.holds_seat:
            roster.release_seat(str(dealer.id), effective_on)
            limit = self.policy.in_force(effective_on).seat_limit(new_tier)
            roster.take_seat(str(dealer.id), new_tier, limit, effective_on)
        pool = None
        if was_repair_centre and new_tier != Tier.A:
            # S1: a repair centre is a tier-A dealer; leaving tier A frees the region's place.
            roster.release_repair_centre(str(dealer.id), effective_on)
            pool = self.get_pool(str(dealer.id))
            pool.close(effective_on, f"dealer left tier A ({reason})")
        return Done(dealer, self._save(dealer, roster, pool))

    @command
    def reassign_salesperson(
        self, dealer_id: str, salesperson: str, effective_on: date | None = None
    ) -> Done[Dealer]:
        dealer = self.get_dealer(dealer_id)
        dealer.reassign(salesperson.strip(), effective_on or self.clock())
        return Done(dealer, self._save(dealer))

    @command
    def record_incident(
        self, dealer_id: str, kind: str, occurred_on: date | None = None, note: str = ""
    ) -> Done[Dealer]:
        """D7 + C4: the incident is recorded and suspends an open credit line at once."""
        dealer = self.get_dealer(dealer_id)
        incident_kind = parse_choice(IncidentKind, kind, "kind")
        occurred_on = occurred_on or self.clock()
        if len(dealer.incidents) >= limits.MAX_INCIDENTS:
            raise RuleViolationError(
                "O1", f"the dealer's record holds {limits.MAX_INCIDENTS} incidents, the most a "
                "credit evaluation (C2) can carry", field="kind",
            )
        dealer.record_incident(incident_kind, occurred_on, note)
        credit = self._rated_credit_line(str(dealer.id))
        if credit is not None:
            credit.suspend(occurred_on, f"{incident_kind.value}: {note}".strip(": "))
        return Done(dealer, self._save(dealer, credit))

    @command
    def terminate_dealer(
        self, dealer_id: str, terminated_on: date | None = None, reason: str = ""
    ) -> Done[Dealer]:
        """D4/D7: termination frees the seat and the region's repair centre, closes the pool."""
        dealer = self.get_dealer(dealer_id)
        terminated_on = terminated_on or self.clock()
        dealer.terminate(terminated_on, reason)
        roster = self.get_roster()
        roster.release_seat(str(dealer.id), terminated_on)
        roster.release_repair_centre(str(dealer.id), terminated_on)
        pool = None
        if dealer.repair_centre_since is not None:
            pool = self.get_pool(str(dealer.id))
            pool.close(terminated_on, "dealer terminated")
        credit = self._rated_credit_line(str(dealer.id))
        if credit is not None:
            credit.suspend(terminated_on, "dealer terminated")
        return Done(dealer, self._save(dealer, roster, pool, credit))

    @command
    def authorize_repair_centre(
        self, dealer_id: str, signed_on: date | None = None
    ) -> Done[SparePartsPool]:
        """S1: a tier-A dealer, one per region; opens the dealer's spare-parts pool."""
        dealer = self.get_dealer(dealer_id)
        signed_on = signed_on or self.clock()
        if self.find_pool(str(dealer.id)) is not None:
            raise RuleViolationError(
                "S1", "this dealer's spare-parts pool was closed when it left tier A; it stays closed"
            )
        dealer.authorize_repair_centre(signed_on)
        roster = self.get_roster()
        roster.appoint_repair_centre(dealer.region, str(dealer.id), signed_on)
        pool = SparePartsPool(pool=str(dealer.id), region=dealer.region, opened_on=signed_on)
        return Done(pool, self._save(dealer, roster, pool), created=True)
