"""The order aggregate: placement at tier prices (P3, P4), approval (P3, D9), and the life cycle of
O3 — confirmed, shipped, delivered, paid, cancelled, returned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInputError, RuleViolationError
from domain.ids import named_id
from domain.lines import OrderLine, RequestedLine, ReturnLine, upcast_lines
from domain.policy import OrderBounds
from domain.price_list import PriceListVersion
from domain.values import Payment, Tier, money


class OrderStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    PAID = "paid"


def price_lines(
    requested: Sequence[RequestedLine | Mapping[str, Any]], version: PriceListVersion, tier: Tier,
    bounds: OrderBounds,
) -> tuple[list[OrderLine], list[dict[str, str]]]:
    """Price each line with the version in force (P4); flag prices below tier (P3), refuse those
    below the floor or above the list price (P3), and refuse lines and quantities beyond the
    bounds of the policy in force (O1). Returns the line records and the approvals they need."""
    if not requested:
        raise InvalidInputError("lines: an order needs at least one line", field="lines")
    if len(requested) > bounds.max_lines:
        raise RuleViolationError(
            "O1", f"lines: an order holds at most {bounds.max_lines} lines ({len(requested)} given)",
            field="lines",
        )
    lines: list[OrderLine] = []
    approvals: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(requested):
        line = RequestedLine.parse(raw, index)
        sku, qty = line.sku, line.qty
        if qty > bounds.max_qty:
            raise RuleViolationError(
                "O1", f"lines[{index}].qty: {qty} is above the {bounds.max_qty} units a line may hold",
                field=f"lines[{index}].qty",
            )
        item = version.items.get(sku)
        if item is None:
            raise RuleViolationError(
                "P1",
                f"lines[{index}].sku: {sku} is not on the price list in force "
                f"from {version.effective_from}",
                field=f"lines[{index}].sku",
            )
        if sku in seen:  # O1: a line per SKU
            raise RuleViolationError(
                "O1", f"lines[{index}].sku: {sku} appears twice; merge the lines",
                field=f"lines[{index}].sku",
            )
        seen.add(sku)
        tier_price = item.tier_price(tier)
        asked = line.unit_price
        unit_price = tier_price if asked is None else asked
        where = f"lines[{index}].unit_price"
        if unit_price <= 0:
            raise InvalidInputError(f"{where}: must be positive", field=where)
        if unit_price > item.list_price:
            raise RuleViolationError(
                "P3",
                f"{where} {unit_price} for {sku} is above the list price {item.list_price}",
                field=where,
            )
        if unit_price < item.floor_price:
            raise RuleViolationError(
                "P3",
                f"{where} {unit_price} for {sku} is below the floor price {item.floor_price}",
                field=where,
            )
        if unit_price < tier_price:
            approvals.append(
                {
                    "rule": "P3",
                    "reason": f"{sku} at {unit_price}, below the tier-{tier} price {tier_price}",
                }
            )
        lines.append(
            OrderLine(
                sku=sku,
                name=item.name,
                qty=qty,
                unit_price=unit_price,
                tier_price=tier_price,
                list_price=item.list_price,
                floor_price=item.floor_price,
                amount=money(unit_price * qty),
                asked_price=None if asked is None else unit_price,
            )
        )
    total = order_total(lines)
    if total > bounds.max_total:
        raise RuleViolationError(
            "O1", f"total: {total} is above the {bounds.max_total} an order may total",
            field="total",
        )
    return lines, approvals


def order_total(lines: Sequence[OrderLine | ReturnLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def request_key(lines: Sequence[RequestedLine | Mapping[str, Any]]) -> list[tuple[str, int, str]]:
    """What a client asked for, comparable between a stored order and a repeated request."""
    parsed = RequestedLine.parse_all(lines)
    return sorted((x.sku, x.qty, "" if x.unit_price is None else str(x.unit_price)) for x in parsed)


def held_key(lines: Sequence[OrderLine]) -> list[tuple[str, int, str]]:
    """What the client asked for in a stored order (its asked prices, not the prices applied)."""
    return sorted(
        (x.sku, x.qty, "" if x.asked_price is None else str(x.asked_price)) for x in lines
    )


class Order(Aggregate):
    class Placed(Aggregate.Created):
        """Placed at the prices in force (P3, P4). Version 2: lines are `OrderLine`s."""

        class_version = 2
        upcast_v1_v2 = staticmethod(upcast_lines(OrderLine))
        dealer_id: str
        client_ref: str
        order_date: date
        ship_to_region: str
        payment: str
        tier: str
        lines: list[OrderLine]
        total: Decimal
        price_list_version: int
        approvals: list[dict[str, str]]

    class Returned(Aggregate.Event):
        """Lines returned after delivery (O3). Version 2: lines are `ReturnLine`s."""

        class_version = 2
        upcast_v1_v2 = staticmethod(upcast_lines(ReturnLine))
        returned_on: date
        lines: list[ReturnLine]
        value: Decimal

    @staticmethod
    def create_id(dealer_id: str, client_ref: str) -> UUID:
        return named_id("order", dealer_id, client_ref)

    @event("Placed")
    def __init__(
        self,
        dealer_id: str,
        client_ref: str,
        order_date: date,
        ship_to_region: str,
        payment: str,
        tier: str,
        lines: list[OrderLine],
        total: Decimal,
        price_list_version: int,
        approvals: list[dict[str, str]],
    ) -> None:
        self.dealer_id = dealer_id
        self.client_ref = client_ref
        self.order_date = order_date
        self.ship_to_region = ship_to_region
        self.payment = Payment(payment)
        self.tier = Tier(tier)
        self.lines = lines
        self.total = total
        self.price_list_version = price_list_version
        self.approvals = approvals
        self.status = OrderStatus.AWAITING_APPROVAL
        self.confirmed_on: date | None = None
        self.shipped_on: date | None = None
        self.delivered_on: date | None = None
        self.paid = Decimal("0.00")
        self.payments: list[dict[str, Any]] = []
        self.returns: list[dict[str, Any]] = []
        self.returned_qty: dict[str, int] = {}
        self.returned_value = Decimal("0.00")
        self.decision: dict[str, Any] | None = None
        self.cancellation: dict[str, Any] | None = None

    @property
    def needs_approval(self) -> bool:
        return bool(self.approvals)

    @property
    def outstanding(self) -> Decimal:
        """What is still to be paid: total less returns less payments."""
        return self.total - self.returned_value - self.paid

    @property
    def is_open(self) -> bool:
        """Confirmed or awaiting, not yet shipped: it can still be cancelled."""
        return self.status in (OrderStatus.AWAITING_APPROVAL, OrderStatus.CONFIRMED)

    def same_request(
        self, order_date: date, ship_to_region: str, payment: str,
        lines: Sequence[RequestedLine | Mapping[str, Any]],
    ) -> bool:
        """O1: a repeated client_ref must carry the same order."""
        return (
            self.order_date == order_date
            and self.ship_to_region == ship_to_region
            and self.payment.value == payment
            and request_key(lines) == held_key(self.lines)
        )

    # --- approval and confirmation --------------------------------------------------------

    def confirm(self, confirmed_on: date) -> None:
        if self.status != OrderStatus.AWAITING_APPROVAL:
            raise RuleViolationError("O3", f"order is {self.status}, not awaiting confirmation")
        self._confirm(confirmed_on=confirmed_on)

    @event("Confirmed")
    def _confirm(self, confirmed_on: date) -> None:
        self.status = OrderStatus.CONFIRMED
        self.confirmed_on = confirmed_on

    def decide(self, approve: bool, note: str, decided_on: date) -> None:
        if self.status != OrderStatus.AWAITING_APPROVAL or not self.needs_approval:
            raise RuleViolationError("P3", f"order is {self.status}; there is nothing to approve")
        if decided_on < self.order_date:
            raise RuleViolationError("O3", "the decision predates the order", field="decided_on")
        if approve:
            self._approve(note=note, decided_on=decided_on)
            self.confirm(decided_on)
        else:
            self._reject(note=note, decided_on=decided_on)

    @event("Approved")
    def _approve(self, note: str, decided_on: date) -> None:
        self.decision = {"approved": True, "note": note, "decided_on": decided_on}

    @event("Rejected")
    def _reject(self, note: str, decided_on: date) -> None:
        self.decision = {"approved": False, "note": note, "decided_on": decided_on}
        self.status = OrderStatus.REJECTED

    def cancel(self, reason: str, cancelled_on: date) -> None:
        if not self.is_open:
            raise RuleViolationError("O3", f"order is {self.status}; cancel is possible until shipped")
        if cancelled_on < self.order_date:
            raise RuleViolationError("O3", "cancelled_on predates the order", field="cancelled_on")
        self._cancel(reason=reason, cancelled_on=cancelled_on, was=self.status.value)

    @event("Cancelled")
    def _cancel(self, reason: str, cancelled_on: date, was: str) -> None:
        self.status = OrderStatus.CANCELLED
        self.cancellation = {"reason": reason, "cancelled_on": cancelled_on, "was": was}

    # --- fulfilment ---------------------------------------------------------------------

    def ship(self, shipped_on: date) -> None:
        if self.status != OrderStatus.CONFIRMED:
            raise RuleViolationError("O3", f"order is {self.status}; only a confirmed order ships")
        if self.payment == Payment.PREPAID and self.paid < self.total:
            raise RuleViolationError(
                "O4", f"a prepaid order ships once paid in full ({self.paid} of {self.total})"
            )
        if shipped_on < self.order_date:
            raise RuleViolationError("O3", "shipped_on predates the order", field="shipped_on")
        self._ship(shipped_on=shipped_on)

    @event("Shipped")
    def _ship(self, shipped_on: date) -> None:
        self.status = OrderStatus.SHIPPED
        self.shipped_on = shipped_on

    def deliver(self, delivered_on: date) -> None:
        if self.status != OrderStatus.SHIPPED:
            raise RuleViolationError("O3", f"order is {self.status}; only a shipped order is delivered")
        assert self.shipped_on is not None
        if delivered_on < self.shipped_on:
            raise RuleViolationError(
                "O3", "delivered_on is before shipped_on", field="delivered_on"
            )
        self._deliver(delivered_on=delivered_on, value=self.total)

    @event("Delivered")
    def _deliver(self, delivered_on: date, value: Decimal) -> None:
        self.status = OrderStatus.PAID if self.outstanding <= 0 else OrderStatus.DELIVERED
        self.delivered_on = delivered_on

    def pay(self, paid_on: date, amount: Decimal) -> None:
        if self.status in (
            OrderStatus.AWAITING_APPROVAL,
            OrderStatus.REJECTED,
            OrderStatus.CANCELLED,
        ):
            raise RuleViolationError("O3", f"order is {self.status}; it takes no payment")
        if amount <= 0:
            raise InvalidInputError("amount: must be positive", field="amount")
        # Compared before rounding: an amount beyond what is outstanding may be beyond any figure.
        if amount > self.outstanding:
            raise RuleViolationError(
                "O3", f"amount {amount} exceeds what is outstanding ({self.outstanding})",
                field="amount",
            )
        if amount != money(amount):
            raise InvalidInputError("amount: at most two decimal places", field="amount")
        if paid_on < self.order_date:
            raise RuleViolationError("O3", "paid_on predates the order", field="paid_on")
        self._pay(paid_on=paid_on, amount=amount)

    @event("PaymentRecorded")
    def _pay(self, paid_on: date, amount: Decimal) -> None:
        self.paid += amount
        self.payments.append({"paid_on": paid_on, "amount": amount})
        if self.status == OrderStatus.DELIVERED and self.outstanding <= 0:
            self.status = OrderStatus.PAID

    def return_lines(
        self, returned_on: date, lines: Sequence[RequestedLine | Mapping[str, Any]], max_lines: int
    ) -> Decimal:
        """O3: a return of delivered lines; O1: at most `max_lines` lines (the policy's bound of
        an order's lines), as the return's event carries them all."""
        if self.status not in (OrderStatus.DELIVERED, OrderStatus.PAID):
            raise RuleViolationError("O3", f"order is {self.status}; returns follow delivery")
        assert self.delivered_on is not None
        if returned_on < self.delivered_on:
            raise RuleViolationError(
                "O3", "returned_on is before the delivery", field="returned_on"
            )
        if not lines:
            raise InvalidInputError("lines: a return needs at least one line", field="lines")
        if len(lines) > max_lines:
            raise RuleViolationError(
                "O1", f"lines: a return holds at most {max_lines} lines ({len(lines)} given)",
                field="lines",
            )
        by_sku = {line.sku: line for line in self.lines}
        records = []
        asked: dict[str, int] = {}
        for index, raw in enumerate(lines):
            line = RequestedLine.parse(raw, index, price=False)
            sku, qty = line.sku, line.qty
            if sku not in by_sku:  # O3: returns are of the order's delivered lines
                raise RuleViolationError(
                    "O3", f"lines[{index}].sku: {sku} is not on this order",
                    field=f"lines[{index}].sku",
                )
            asked[sku] = asked.get(sku, 0) + qty
            left = by_sku[sku].qty - self.returned_qty.get(sku, 0)
            if asked[sku] > left:
                raise RuleViolationError(
                    "O3", f"lines[{index}]: only {left} of {sku} can still be returned",
                    field=f"lines[{index}].qty",
                )
            unit_price = by_sku[sku].unit_price
            records.append(ReturnLine(sku, qty, unit_price, money(unit_price * qty)))
        value = order_total(records)
        self._return(returned_on=returned_on, lines=records, value=value)
        return value

    @event(Returned)
    def _return(self, returned_on: date, lines: list[ReturnLine], value: Decimal) -> None:
        for record in lines:
            self.returned_qty[record.sku] = self.returned_qty.get(record.sku, 0) + record.qty
        self.returned_value += value
        self.returns.append({"returned_on": returned_on, "lines": lines, "value": value})
        if self.status == OrderStatus.DELIVERED and self.outstanding <= 0:
            self.status = OrderStatus.PAID
