"""Order commands (O1–O6): placement at tier prices (P3, P4), approvals (P3, D9), cancel, ship,
deliver, payments and returns, with their effects on the dealer (D3, C2) and its credit (C3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.credit import CreditLine
from domain.dealer import Dealer
from domain.errors import RuleViolationError
from domain.lines import RequestedLine
from domain.order import Order, OrderStatus, order_total, price_lines
from domain.policy import PolicyBook
from domain.values import Payment, Tier, to_decimal
from services.commands.base import Done, LedgerBase, check_filled, command, parse_choice


class OrderCommands(LedgerBase):
    def get_order(self, order_id: str | UUID) -> Order:
        return self._get(Order, self._uuid(order_id, "order"), "order")

    def find_order(self, dealer_id: str, client_ref: str) -> Order | None:
        return self._find(Order, Order.create_id(dealer_id, client_ref), new=True)

    def _credit_of(self, order: Order) -> CreditLine | None:
        """The credit line a credit order draws on (C3); None for a prepaid order."""
        return self._credit_line(order.dealer_id) if order.payment == Payment.CREDIT else None

    def _on_confirmed(
        self, order: Order, dealer: Dealer, credit: CreditLine | None, book: PolicyBook | None = None
    ) -> None:
        """D3 (agreement takes effect), C2(2) (order value) and C3 (reservation); `book` is the
        policy the command has loaded already."""
        policy = (book or self.policy).in_force(order.order_date)
        dealer.take_effect(str(order.id), order.order_date)
        dealer.count_order_value(
            str(order.id), order.order_date, order.total, policy.qualifying_months
        )
        if credit is not None:
            credit.reserve(str(order.id), order.total, order.order_date)

    @command
    def place_order(
        self,
        dealer_id: str,
        client_ref: str,
        order_date: date | None,
        ship_to_region: str,
        payment: str,
        lines: Sequence[RequestedLine | Mapping[str, Any]],
    ) -> Done[Order]:
        dealer = self.get_dealer(dealer_id)
        dealer_key = str(dealer.id)
        check_filled(client_ref, "client_ref")
        order_date = order_date or self.clock()
        pay = parse_choice(Payment, payment, "payment")
        check_filled(ship_to_region, "ship_to_region")
        existing = self.find_order(dealer_key, client_ref)
        if existing is not None:
            if not existing.same_request(order_date, ship_to_region, pay.value, lines):
                raise RuleViolationError(
                    "O1",
                    f"client_ref {client_ref!r} already names another order of this dealer",
                    field="client_ref",
                )
            return Done(existing, None, created=False)

        dealer.check_may_order(order_date)
        credit: CreditLine | None = None
        if pay == Payment.CREDIT:
            if dealer.tier != Tier.A:
                raise RuleViolationError("O4", "only tier-A dealers order on credit (C1)")
            credit = self._credit_line(dealer_key)
        price_list = self.read_price_list()
        version = price_list.version_on(order_date)
        if version is None:
            raise RuleViolationError(
                "P4", f"no price list is in force on {order_date}", field="order_date"
            )
        book = self.policy
        priced, approvals = price_lines(lines, version, dealer.tier, book.in_force(order_date).orders)
        if ship_to_region != dealer.region:
            approvals.append(
                {
                    "rule": "D9",
                    "reason": f"shipped to {ship_to_region}, outside the dealer's region "
                    f"{dealer.region}",
                }
            )
        total = order_total(priced)
        order = Order(
            dealer_id=dealer_key,
            client_ref=client_ref,
            order_date=order_date,
            ship_to_region=ship_to_region,
            payment=pay.value,
            tier=dealer.tier.value,
            lines=priced,
            total=total,
            price_list_version=version.number,
            approvals=approvals,
        )
        if credit is not None:
            credit.check_can_reserve(total, order_date)
        if not approvals:
            order.confirm(order_date)
            self._on_confirmed(order, dealer, credit, book)
        position = self._save(order, dealer, credit, read=(dealer, price_list))
        return Done(order, position, created=True)

    @command
    def decide_order(
        self, order_id: str, approve: bool, note: str = "", decided_on: date | None = None
    ) -> Done[Order]:
        """P3/D9: a manager's decision; approval confirms (and reserves credit)."""
        order = self.get_order(order_id)
        decided_on = decided_on or max(self.clock(), order.order_date)
        order.decide(approve, note, decided_on)
        dealer = self.get_dealer(order.dealer_id)
        credit = None
        if approve:
            dealer.check_may_order(order.order_date)
            credit = self._credit_of(order)
            self._on_confirmed(order, dealer, credit)
        return Done(order, self._save(order, dealer, credit, read=(dealer,)))

    @command
    def cancel_order(
        self, order_id: str, reason: str = "", cancelled_on: date | None = None
    ) -> Done[Order]:
        order = self.get_order(order_id)
        cancelled_on = cancelled_on or max(self.clock(), order.order_date)
        was_confirmed = order.status == OrderStatus.CONFIRMED
        order.cancel(reason, cancelled_on)
        dealer = credit = None
        if was_confirmed:
            dealer = self.get_dealer(order.dealer_id)
            dealer.withdraw_order_value(str(order.id))
            credit = self._credit_of(order)
            if credit is not None:
                credit.settle(str(order.id), order.total, cancelled_on, "cancelled")
        return Done(order, self._save(order, dealer, credit))

    @command
    def ship_order(self, order_id: str, shipped_on: date | None = None) -> Done[Order]:
        order = self.get_order(order_id)
        order.ship(shipped_on or self.clock())
        return Done(order, self._save(order))

    @command
    def deliver_order(self, order_id: str, delivered_on: date | None = None) -> Done[Order]:
        """O5/O6: deliveries count in an open month; C3: the reservation becomes a receivable."""
        order = self.get_order(order_id)
        delivered_on = delivered_on or self.clock()
        calendar = self._open_calendar(delivered_on, "delivered_on")
        order.deliver(delivered_on)
        credit = self._credit_of(order)
        if credit is not None:
            overdue_days = self.policy.in_force(delivered_on).overdue_days
            credit.book_receivable(str(order.id), delivered_on, overdue_days)
        return Done(order, self._save(order, credit, read=(calendar,)))

    @command
    def record_payment(
        self, order_id: str, paid_on: date | None, amount: Decimal | str
    ) -> Done[Order]:
        order = self.get_order(order_id)
        paid_on = paid_on or self.clock()
        calendar = self._open_calendar(paid_on, "paid_on")
        value = to_decimal(amount, "amount")
        order.pay(paid_on, value)
        credit = self._credit_of(order)
        if credit is not None:
            credit.settle(str(order.id), value, paid_on, "payment")
        return Done(order, self._save(order, credit, read=(calendar,)))

    @command
    def return_order_lines(
        self, order_id: str, returned_on: date | None,
        lines: Sequence[RequestedLine | Mapping[str, Any]],
    ) -> Done[Order]:
        order = self.get_order(order_id)
        returned_on = returned_on or self.clock()
        calendar = self._open_calendar(returned_on, "returned_on")
        outstanding_before = order.outstanding
        max_lines = self.policy.in_force(order.order_date).orders.max_lines
        value = order.return_lines(returned_on, lines, max_lines)
        # Only what was still owed is released: a return of paid goods settles nothing.
        credit = self._credit_of(order) if outstanding_before > 0 else None
        if credit is not None:
            credit.settle(str(order.id), min(value, outstanding_before), returned_on, "return")
        return Done(order, self._save(order, credit, read=(calendar,)))
