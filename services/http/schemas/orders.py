"""/orders: placement (O1, P3, P4, D9), approval, cancellation, shipment, delivery, payments and
returns (O3–O6)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from domain.limits import MAX_ORDER_LINES, MAX_QTY
from domain.lines import RequestedLine
from domain.order import OrderStatus
from domain.values import Payment
from infra import envelope
from infra.envelope import StrictBoolean
from services.http.fields import YES_OR_NO, Amount, BusinessDate, Count, MoneyIn, Text
from services.http.schemas.common import NOTE_TEXT, REGIONS_TEXT, answer_schema, when


class OrderLineInSchema(Schema):
    # The bounds of the policy in force on the order date (O1: max_qty, max_lines, max_total)
    # refuse with 409 naming the field; the schema keeps the structural ceilings they stay within.
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    qty = Count(required=True, validate=validate.Range(min=1, max=MAX_QTY))
    unit_price = MoneyIn(
        load_default=None, positive=True,
        metadata={"description": "asked price; default the dealer's tier price (P3)"},
    )

    @post_load
    def requested(self, data: dict[str, Any], **_: Any) -> RequestedLine:
        return RequestedLine.of(data["sku"], data["qty"], data["unit_price"])


class OrderCreateSchema(Schema):
    dealer_id = fields.UUID(required=True)
    client_ref = Text(
        required=True, validate=validate.Length(min=1, max=100),
        metadata={"description": "unique per dealer: the same order sent twice is one order (O1)"},
    )
    order_date = when("order date")
    ship_to_region = Text(required=True, validate=REGIONS_TEXT)
    payment = fields.Enum(Payment, by_value=fields.String, required=True)
    lines = fields.List(
        fields.Nested(OrderLineInSchema), required=True,
        validate=validate.Length(min=1, max=MAX_ORDER_LINES),
    )


# The lines as Order.Placed and Order.Returned record them.
OrderLineSchema = answer_schema(envelope.OrderLineSchema, "OrderLineSchema")
ReturnLineSchema = answer_schema(envelope.ReturnLineSchema, "ReturnLineSchema")


class ApprovalNeedSchema(Schema):
    rule = fields.String()
    reason = fields.String()


class PaymentRecordSchema(Schema):
    paid_on = BusinessDate()
    amount = Amount()


class ReturnRecordSchema(Schema):
    returned_on = BusinessDate()
    lines = fields.List(fields.Nested(ReturnLineSchema))
    value = Amount()


class DecisionSchema(Schema):
    approved = fields.Boolean()
    note = fields.String()
    decided_on = BusinessDate()


class CancellationRecordSchema(Schema):
    reason = fields.String()
    cancelled_on = BusinessDate()
    was = fields.String()


class OrderSchema(Schema):
    id = fields.String(required=True)
    dealer_id = fields.String()
    client_ref = fields.String()
    order_date = BusinessDate()
    ship_to_region = fields.String()
    payment = fields.String()
    tier = fields.String()
    status = fields.Enum(OrderStatus, by_value=fields.String)
    total = Amount()
    needs_approval = fields.Boolean()
    approvals = fields.List(fields.Nested(ApprovalNeedSchema))
    price_list_version = fields.Integer()
    lines = fields.List(fields.Nested(OrderLineSchema))
    confirmed_on = BusinessDate(allow_none=True)
    shipped_on = BusinessDate(allow_none=True)
    delivered_on = BusinessDate(allow_none=True)
    paid = Amount()
    outstanding = Amount()
    payments = fields.List(fields.Nested(PaymentRecordSchema))
    returns = fields.List(fields.Nested(ReturnRecordSchema))
    decision = fields.Nested(DecisionSchema, allow_none=True)
    cancellation = fields.Nested(CancellationRecordSchema, allow_none=True)


class OrderQuerySchema(Schema):
    dealer_id = fields.UUID()
    status = fields.Enum(OrderStatus, by_value=fields.String)


class OrderRowSchema(Schema):
    order_id = fields.String()
    dealer_id = fields.String()
    client_ref = fields.String()
    order_date = BusinessDate()
    status = fields.String()
    payment = fields.String()
    total = Amount()
    needs_approval = fields.Boolean()
    salesperson = fields.String()
    region = fields.String()
    paid = Amount()
    returned = Amount()


class OrderListSchema(Schema):
    orders = fields.List(fields.Nested(OrderRowSchema))


class ApprovalSchema(Schema):
    approve = StrictBoolean(required=True, error_messages=YES_OR_NO)
    note = Text(load_default="", validate=NOTE_TEXT)
    decided_on = when("date of the decision")


class CancellationSchema(Schema):
    reason = Text(load_default="", validate=NOTE_TEXT)
    cancelled_on = when("cancellation date")


class ShipmentSchema(Schema):
    shipped_on = when("shipping date")


class DeliverySchema(Schema):
    delivered_on = when("delivery date")


class PaymentSchema(Schema):
    paid_on = when("payment date")
    amount = MoneyIn(required=True, positive=True)


class ReturnLineInSchema(Schema):
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    qty = Count(required=True, validate=validate.Range(min=1, max=MAX_QTY))

    @post_load
    def requested(self, data: dict[str, Any], **_: Any) -> RequestedLine:
        return RequestedLine.of(data["sku"], data["qty"])


class ReturnSchema(Schema):
    returned_on = when("return date")
    lines = fields.List(
        fields.Nested(ReturnLineInSchema), required=True,
        validate=validate.Length(min=1, max=MAX_ORDER_LINES),
    )
