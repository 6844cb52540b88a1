"""Credit commands (C1–C5): the dealer's credit line and its evaluation (C2), which opens the
line (C3). Reservations, receivables and settlements follow the orders (`orders.py`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from domain.credit import CreditLine, rate_dealer
from services.commands.base import Done, LedgerBase, command


class CreditCommands(LedgerBase):
    def get_credit_line(self, dealer_id: str | UUID) -> CreditLine:
        """The dealer's credit line; status `none` if it was never rated."""
        dealer = self.get_dealer(dealer_id)
        return self._credit_line(str(dealer.id))

    @command
    def evaluate_credit(
        self, dealer_id: str, as_of: date | None = None, attested: bool = False
    ) -> Done[CreditLine]:
        """C2: rate the dealer; the evaluation records which criteria failed. C3 opens the line."""
        dealer = self.get_dealer(dealer_id)
        dealer.check_not_terminated("C2")
        as_of = as_of or self.clock()
        policy = self.policy.in_force(as_of)
        failed, details = rate_dealer(dealer, as_of, attested, policy)
        credit = self._credit_line(str(dealer.id))
        amount = dealer.agreement["monthly_amount"] if dealer.agreement else Decimal(0)
        credit.evaluate(as_of, failed, details, amount, policy)
        return Done(credit, self._save(credit, read=(dealer,)))
