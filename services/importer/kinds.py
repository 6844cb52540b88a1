"""Each kind of unit driven through the application's commands as the HTTP API drives them: the body
a unit makes is loaded by the API's own schemas (services/http/schemas/orders.py: ASCII digits,
YYYY-MM-DD dates, decimal money), then the same commands run (services/commands/orders.py), every
rule with them. Each handler answers IMPORTED or PRESENT, or raises `Rejected`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError, fields

from domain.errors import ChannelError, NotFoundError
from domain.order import Order, OrderStatus
from services.http.schemas import orders as api
from services.importer.layout import DELIVERIES, ORDERS, RETURNS, Layout, Unit
from services.importer.outcome import (
    IMPORTED,
    INVALID,
    PRESENT,
    REFUSED,
    UNKNOWN,
    Problem,
    Rejected,
    from_error,
    from_messages,
)
from services.importer.staging import StagedLedger

T = TypeVar("T")
Names = Callable[[str], list[str]]  # a dealer's registered name -> the ids of the dealers so named
Handler = Callable[[StagedLedger, Unit, str], str]
MISSING = "Missing data for required field."
_DIGITS = re.compile(r"^[0-9]+$")
# Where a refusal names no field, the column it concerns.
_BY_RULE = {"O4": "payment", "C1": "payment", "C3": "payment", "C5": "payment", "O2": "dealer_id",
            "D7": "dealer_id"}
_UUID = fields.UUID()
_ORDER, _APPROVAL, _SHIPMENT = api.OrderCreateSchema(), api.ApprovalSchema(), api.ShipmentSchema()
_DELIVERY, _PAYMENT, _RETURN = api.DeliverySchema(), api.PaymentSchema(), api.ReturnSchema()


def _present(body: dict[str, Any]) -> dict[str, Any]:
    """An empty cell is a value not given, as a field left out of a JSON body."""
    return {k: v for k, v in body.items() if v is not None}


def _count(text: str | None) -> int | str | None:
    """A quantity as the JSON body would carry it: ASCII digits make an integer; anything else is
    passed on as text, which the API's field refuses (not a valid integer)."""
    return int(text) if text is not None and _DIGITS.match(text) else text


def load(schema: Schema, body: dict[str, Any], layout: Layout, names: Mapping[str, str],
         default: str, partial: tuple[str, ...] = ()) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(body, partial=partial or None)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {default: exc.messages}
        raise from_messages(messages, layout.rule, names, default) from None
    return loaded


def run(call: Callable[[], T], rule: str, names: Mapping[str, str], default: str,
        by_rule: Mapping[str, str] = _BY_RULE) -> T:
    """A command; its refusal as the import reports it (`by_rule`: the column a refusal that names
    no field concerns, by its rule; else `default`)."""
    try:
        return call()
    except ChannelError as error:
        column = by_rule.get(error.rule or "", default) if error.field is None else default
        raise from_error(error, rule, names, column) from error


def check_unit(unit: Unit, layout: Layout) -> None:
    """What the rows of a unit owe before any command: whole rows, every required cell, and the
    unit's shared columns alike in all its rows."""
    for index, row in enumerate(unit.rows):
        if row.error:
            raise Rejected(layout.rule, INVALID, [Problem(index, "line", row.error)])
        for column in layout.required:
            if row.get(column) is None:
                raise Rejected(layout.rule, INVALID, [Problem(index, column, MISSING)])
    first = unit.first
    for index, row in enumerate(unit.rows[1:], start=1):
        for column in layout.shared:
            if row.get(column) != first.get(column):
                raise Rejected(layout.rule, INVALID, [Problem(index, column, (
                    f"{column} {row.get(column) or '(empty)'} differs from "
                    f"{first.get(column) or '(empty)'} on line {first.line}: the rows of one "
                    f"{layout.unit[:-1] if layout.unit != 'deliveries' else 'delivery'} agree"))])


def dealer_of(unit: Unit, names: Names, layout: Layout) -> str:
    """The dealer a unit names, by id or by registered name (both: they must agree)."""
    given_id, given_name = unit.first.get("dealer_id"), unit.first.get("dealer_name")
    named: list[str] = []
    if given_name is not None:
        named = names(given_name)
        if not named:
            raise Rejected(layout.rule, UNKNOWN,
                           [Problem(None, "dealer_name", f"no dealer is named {given_name!r}")])
        if len(named) > 1 and given_id is None:
            raise Rejected(layout.rule, INVALID, [Problem(None, "dealer_name", (
                f"{len(named)} dealers are named {given_name!r}; give dealer_id"))])
    if given_id is None:
        return named[0]
    try:
        dealer_id = str(_UUID.deserialize(given_id))
    except ValidationError as exc:
        raise Rejected(layout.rule, INVALID, [Problem(None, "dealer_id", " ".join(exc.messages))]) \
            from None
    if given_name is not None and dealer_id not in named:
        raise Rejected(layout.rule, INVALID, [Problem(None, "dealer_name", (
            f"{given_name!r} is not the name of dealer {dealer_id}"))])
    return dealer_id


def _order(ledger: StagedLedger, unit: Unit, dealer_id: str, layout: Layout) -> Order:
    """The order a delivery or return names by its client reference, read as the API reads one."""
    try:
        client_ref = _ORDER.fields["client_ref"].deserialize(unit.client_ref)
    except ValidationError as exc:
        raise Rejected(layout.rule, INVALID, [Problem(None, "client_ref", " ".join(exc.messages))]) \
            from None
    found = ledger.find_order(dealer_id, client_ref)
    if found is not None:
        return found
    try:
        ledger.get_dealer(dealer_id)
    except NotFoundError:
        raise Rejected(layout.rule, UNKNOWN,
                       [Problem(None, "dealer_id", f"no dealer {dealer_id}")]) from None
    raise Rejected(layout.rule, UNKNOWN, [Problem(None, "client_ref", (
        f"no order {unit.client_ref!r} of dealer {dealer_id}"))])


# --- orders (O1): place, and approve where the row says so (P3, D9) --------------------------------

_ORDER_NAMES = {"lines": "sku", "decided_on": "approved_on", "note": "approval_note"}


def import_order(ledger: StagedLedger, unit: Unit, dealer_id: str) -> str:
    first = unit.first
    body = load(_ORDER, _present({
        "dealer_id": dealer_id, "client_ref": first.get("client_ref"),
        "order_date": first.get("order_date"), "ship_to_region": first.get("ship_to_region"),
        "payment": first.get("payment"),
        "lines": [_present({"sku": r.get("sku"), "qty": _count(r.get("qty")),
                            "unit_price": r.get("unit_price")}) for r in unit.rows],
    }), ORDERS, _ORDER_NAMES, "client_ref")
    approval = None
    if first.get("approved_on") is not None:
        approval = load(_APPROVAL, _present({"approve": True, "note": first.get("approval_note"),
                                             "decided_on": first.get("approved_on")}),
                        ORDERS, _ORDER_NAMES, "approved_on")
    elif first.get("approval_note") is not None:
        raise Rejected("O1", INVALID, [Problem(0, "approved_on", "an approval note goes with "
                                                                 "the approval's date")])
    done = run(lambda: ledger.place_order(
        dealer_id=str(body["dealer_id"]), client_ref=body["client_ref"],
        order_date=body["order_date"], ship_to_region=body["ship_to_region"],
        payment=body["payment"], lines=body["lines"],
    ), "O1", _ORDER_NAMES, "dealer_id")
    placed = done.value
    # A new order is decided as the row says (one confirmed at placement has nothing to approve:
    # P3 refuses); one placed before is approved if it still waits.
    if approval is not None and (done.created or placed.status == OrderStatus.AWAITING_APPROVAL):
        run(lambda: ledger.decide_order(str(placed.id), True, approval["note"],
                                        approval["decided_on"]), "P3", _ORDER_NAMES, "approved_on")
        return IMPORTED
    return IMPORTED if done.created else PRESENT


# --- deliveries (O3): payment where given (O4: a prepaid order ships once paid), ship, deliver -----


def import_delivery(ledger: StagedLedger, unit: Unit, dealer_id: str) -> str:
    first = unit.first
    shipped_column = "shipped_on" if first.get("shipped_on") is not None else "delivered_on"
    delivered_on = load(_DELIVERY, {"delivered_on": first.get("delivered_on")}, DELIVERIES, {},
                        "delivered_on")["delivered_on"]
    shipped_on = load(_SHIPMENT, {"shipped_on": first.get(shipped_column)}, DELIVERIES,
                      {"shipped_on": shipped_column}, shipped_column)["shipped_on"]
    pay_names = {"amount": "paid_amount"}
    payment = None
    if first.get("paid_on") is not None or first.get("paid_amount") is not None:
        if first.get("paid_on") is None:
            raise Rejected("O3", INVALID, [Problem(0, "paid_on", MISSING)])
        payment = load(_PAYMENT, _present({"paid_on": first.get("paid_on"),
                                           "amount": first.get("paid_amount")}),
                       DELIVERIES, pay_names, "paid_on", partial=("amount",))
    order = _order(ledger, unit, dealer_id, DELIVERIES)
    if order.delivered_on is not None:
        if order.delivered_on == delivered_on:
            return PRESENT
        raise Rejected("O3", REFUSED, [Problem(None, "delivered_on", (
            f"order {unit.client_ref} was delivered on {order.delivered_on}"))])
    order_id = str(order.id)

    def pay() -> None:
        assert payment is not None
        amount = payment.get("amount")
        if amount is None:  # the rest of what is owed, if anything is
            amount = ledger.get_order(order_id).outstanding
            if amount <= 0:
                return
        run(lambda: ledger.record_payment(order_id, payment["paid_on"], amount), "O3", pay_names,
            "paid_on")

    pay_first = payment is not None and order.shipped_on is None and payment["paid_on"] <= shipped_on
    if pay_first:
        pay()
    if order.shipped_on is None:
        run(lambda: ledger.ship_order(order_id, shipped_on), "O3", {"shipped_on": shipped_column},
            shipped_column, by_rule={"O4": "paid_on"})
    elif shipped_column == "shipped_on" and order.shipped_on != shipped_on:
        raise Rejected("O3", REFUSED, [Problem(None, "shipped_on", (
            f"order {unit.client_ref} was shipped on {order.shipped_on}"))])
    run(lambda: ledger.deliver_order(order_id, delivered_on), "O3", {}, "delivered_on")
    if payment is not None and not pay_first:
        pay()
    return IMPORTED


# --- returns (O3, O5): one return per order and day, line by line -----------------------------------


def import_return(ledger: StagedLedger, unit: Unit, dealer_id: str) -> str:
    first = unit.first
    body = load(_RETURN, {
        "returned_on": first.get("returned_on"),
        "lines": [{"sku": r.get("sku"), "qty": _count(r.get("qty"))} for r in unit.rows],
    }, RETURNS, {"lines": "sku"}, "returned_on")
    order = _order(ledger, unit, dealer_id, RETURNS)
    asked: Counter[str] = Counter()
    for line in body["lines"]:  # RequestedLines, as the API's schema reads them
        asked[line.sku] += line.qty
    for earlier in order.returns:
        if earlier["returned_on"] == body["returned_on"]:
            recorded: Counter[str] = Counter()
            for line in earlier["lines"]:  # the ReturnLines Order.Returned recorded
                recorded[line.sku] += line.qty
            if recorded == asked:
                return PRESENT
            raise Rejected("O3", INVALID, [Problem(None, "returned_on", (
                f"a return of {unit.client_ref} dated {body['returned_on']} is recorded already "
                "with other lines; the file gives one return per order and day"))])
    run(lambda: ledger.return_order_lines(str(order.id), body["returned_on"], body["lines"]),
        "O3", {"lines": "sku"}, "qty")
    return IMPORTED


HANDLERS: dict[str, Handler] = {
    "orders": import_order,
    "deliveries": import_delivery,
    "returns": import_return,
}
