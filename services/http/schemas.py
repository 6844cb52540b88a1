"""Request and response schemas of the HTTP contract (DESIGN.md), one section per resource. Money is
a decimal string, dates are ISO; a request schema refuses unknown fields."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.http.fields import (
    Amount,
    BusinessDate,
    Count,
    DecimalString,
    Money,
    MonthField,
    StrictBoolean,
)

TIERS = ("A", "AA", "SI", "END")
REGIONS_TEXT = validate.Length(min=1, max=100)
NAME_TEXT = validate.Length(min=1, max=200)
NOTE_TEXT = validate.Length(max=2000)
ORDER_STATUSES = (
    "awaiting_approval", "confirmed", "rejected", "cancelled", "shipped", "delivered", "paid"
)
DEALER_STATUSES = (
    "registered", "draft_signed", "forecast_submitted", "signed", "active", "terminated"
)
ROLES = ("dealer", "sales", "manager", "finance", "auditor", "admin")


def when(description: str) -> BusinessDate:
    """An optional business date; the server's business date when left out (RULES.md)."""
    return BusinessDate(
        load_default=None, metadata={"description": f"{description}; default: today"}
    )


# --- dealers (D) -------------------------------------------------------------------------------

class DealerCreateSchema(Schema):
    name = fields.String(required=True, validate=NAME_TEXT)
    region = fields.String(required=True, validate=REGIONS_TEXT)
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    salesperson = fields.String(required=True, validate=REGIONS_TEXT)
    contact = fields.String(required=True, validate=validate.Length(min=1, max=500))
    registered_on = when("registration date")


class ForecastMonthSchema(Schema):
    month = MonthField(required=True)
    amount = Money(required=True)


class AgreementSchema(Schema):
    signed_on = BusinessDate()
    tier = fields.String()
    region = fields.String()
    monthly_amount = Amount()
    term_months = fields.Integer()
    start_month = fields.String(allow_none=True)
    ends_on = BusinessDate(allow_none=True)


class IncidentSchema(Schema):
    kind = fields.String()
    occurred_on = BusinessDate()
    note = fields.String()


class DealerSchema(Schema):
    id = fields.String(required=True)
    name = fields.String()
    region = fields.String()
    tier = fields.String()
    salesperson = fields.String()
    contact = fields.String()
    status = fields.String(validate=validate.OneOf(DEALER_STATUSES))
    registered_on = BusinessDate()
    draft_signed_on = BusinessDate(allow_none=True)
    forecasts = fields.List(fields.Nested(ForecastMonthSchema))
    agreement = fields.Nested(AgreementSchema, allow_none=True)
    first_order_id = fields.String(allow_none=True)
    incidents = fields.List(fields.Nested(IncidentSchema))
    repair_centre_since = BusinessDate(allow_none=True)
    terminated_on = BusinessDate(allow_none=True)


class DealerQuerySchema(Schema):
    region = fields.String(validate=REGIONS_TEXT)
    tier = fields.String(validate=validate.OneOf(TIERS))


class DealerRowSchema(Schema):
    dealer_id = fields.String()
    name = fields.String()
    region = fields.String()
    tier = fields.String()
    salesperson = fields.String()
    status = fields.String()


class DealerListSchema(Schema):
    dealers = fields.List(fields.Nested(DealerRowSchema))


class DraftAgreementSchema(Schema):
    signed_on = when("signing date")


class ForecastSchema(Schema):
    months = fields.List(
        fields.Nested(ForecastMonthSchema), required=True, validate=validate.Length(min=1, max=60)
    )


class FormalAgreementSchema(Schema):
    signed_on = when("signing date")
    monthly_amount = Money(required=True)
    term_months = Count(required=True, validate=validate.Range(min=1, max=120))


class TierChangeSchema(Schema):
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    effective_on = when("date the tier changes")


class ReassignmentSchema(Schema):
    salesperson = fields.String(required=True, validate=REGIONS_TEXT)
    effective_on = when("date the dealer changes hands")


class IncidentCreateSchema(Schema):
    kind = fields.String(
        required=True, validate=validate.OneOf(("violation", "bad_debt", "dispute"))
    )
    occurred_on = when("date of the incident")
    note = fields.String(load_default="", validate=NOTE_TEXT)


class TerminationSchema(Schema):
    terminated_on = when("termination date")
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RepairCentreSchema(Schema):
    signed_on = when("signing date of the repair-centre agreement")


# --- spare parts (S) ---------------------------------------------------------------------------

class AllocationSchema(Schema):
    month = fields.String()
    amount = Amount()


class PoolSchema(Schema):
    pool = fields.String(required=True)
    region = fields.String()
    opened_on = BusinessDate()
    allocated = Amount()
    drawn = Amount()
    balance = Amount()
    allocations = fields.List(fields.Nested(AllocationSchema))
    closed_on = BusinessDate(allow_none=True)


class DrawSchema(Schema):
    drawn_on = when("date of the draw")
    part = fields.String(required=True, validate=validate.Length(min=1, max=200))
    qty = Count(required=True, validate=validate.Range(min=1, max=1_000_000))
    value = Money(required=True, metadata={"description": "cost value of the parts drawn"})


# --- price list (P) ----------------------------------------------------------------------------

class PriceItemInSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    list_price = Money(required=True)
    floor_price = Money(required=True)


class PriceListPublishSchema(Schema):
    effective_from = BusinessDate(required=True)
    items = fields.List(
        fields.Nested(PriceItemInSchema), required=True,
        validate=validate.Length(min=1, max=10_000),
    )


class TierPricesSchema(Schema):
    A = Amount()
    AA = Amount()
    SI = Amount()
    END = Amount()


class PriceItemSchema(Schema):
    sku = fields.String()
    name = fields.String()
    list_price = Amount()
    floor_price = Amount()
    tier_prices = fields.Nested(TierPricesSchema)


class PriceListVersionSchema(Schema):
    number = fields.Integer()
    effective_from = BusinessDate()
    policy_version = fields.String()
    items = fields.List(fields.Nested(PriceItemSchema))


class PriceListQuerySchema(Schema):
    on = BusinessDate(metadata={"description": "the version in force on this date; default today"})


# --- orders (O) --------------------------------------------------------------------------------

class OrderLineInSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    qty = Count(required=True, validate=validate.Range(min=1, max=1_000_000))
    unit_price = Money(
        load_default=None,
        metadata={"description": "asked price; default the dealer's tier price (P3)"},
    )


class OrderCreateSchema(Schema):
    dealer_id = fields.UUID(required=True)
    client_ref = fields.String(
        required=True, validate=validate.Length(min=1, max=100),
        metadata={"description": "unique per dealer: the same order sent twice is one order (O1)"},
    )
    order_date = when("order date")
    ship_to_region = fields.String(required=True, validate=REGIONS_TEXT)
    payment = fields.String(required=True, validate=validate.OneOf(("prepaid", "credit")))
    lines = fields.List(
        fields.Nested(OrderLineInSchema), required=True, validate=validate.Length(min=1, max=500)
    )


class OrderLineSchema(Schema):
    sku = fields.String()
    name = fields.String()
    qty = fields.Integer()
    unit_price = Amount()
    tier_price = Amount()
    list_price = Amount()
    floor_price = Amount()
    amount = Amount()
    asked_price = Amount(allow_none=True)


class ApprovalNeedSchema(Schema):
    rule = fields.String()
    reason = fields.String()


class PaymentRecordSchema(Schema):
    paid_on = BusinessDate()
    amount = Amount()


class ReturnLineSchema(Schema):
    sku = fields.String()
    qty = fields.Integer()
    unit_price = Amount()
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
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
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
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))


class OrderRowSchema(Schema):
    order_id = fields.String()
    dealer_id = fields.String()
    client_ref = fields.String()
    order_date = BusinessDate()
    status = fields.String()
    payment = fields.String()
    total = Amount()
    needs_approval = fields.Boolean()


class OrderListSchema(Schema):
    orders = fields.List(fields.Nested(OrderRowSchema))


class ApprovalSchema(Schema):
    approve = StrictBoolean(required=True)
    note = fields.String(load_default="", validate=NOTE_TEXT)
    decided_on = when("date of the decision")


class CancellationSchema(Schema):
    reason = fields.String(load_default="", validate=NOTE_TEXT)
    cancelled_on = when("cancellation date")


class ShipmentSchema(Schema):
    shipped_on = when("shipping date")


class DeliverySchema(Schema):
    delivered_on = when("delivery date")


class PaymentSchema(Schema):
    paid_on = when("payment date")
    amount = Money(required=True)


class ReturnLineInSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    qty = Count(required=True, validate=validate.Range(min=1, max=1_000_000))


class ReturnSchema(Schema):
    returned_on = when("return date")
    lines = fields.List(
        fields.Nested(ReturnLineInSchema), required=True, validate=validate.Length(min=1, max=500)
    )


# --- credit (C) --------------------------------------------------------------------------------

class EvaluationRecordSchema(Schema):
    as_of = BusinessDate()
    eligible = fields.Boolean()
    failed_criteria = fields.List(fields.Integer())


class SuspensionSchema(Schema):
    on = BusinessDate()
    reason = fields.String()


class CreditLineSchema(Schema):
    dealer_id = fields.String(required=True)
    status = fields.String(validate=validate.OneOf(("none", "open", "suspended")))
    limit = Amount()
    reserved = Amount()
    receivable = Amount()
    available = Amount()
    overdue = fields.List(fields.String(), metadata={"description": "orders overdue today (C5)"})
    evaluations = fields.List(fields.Nested(EvaluationRecordSchema))
    suspension = fields.Nested(SuspensionSchema, allow_none=True)


class EvaluationSchema(Schema):
    as_of = when("evaluation date")
    market_development_attested = StrictBoolean(
        load_default=False,
        metadata={"description": "C2(4): the dealer develops its market and joins campaigns"},
    )


class EvaluationResultSchema(Schema):
    dealer_id = fields.String(required=True)
    as_of = BusinessDate()
    eligible = fields.Boolean()
    failed_criteria = fields.List(fields.Integer())
    details = fields.Dict(
        keys=fields.String(), metadata={"description": "the figures behind each criterion (C2)"}
    )
    credit = fields.Nested(CreditLineSchema)


# --- periods (O6) ------------------------------------------------------------------------------

class PeriodCloseSchema(Schema):
    closed_on = when("business date of the close")


class PeriodClosedSchema(Schema):
    month = fields.String()
    closed_on = BusinessDate()
    covers_from = fields.Integer()
    covers_to = fields.Integer()
    chain_hash = fields.String()


# --- api keys ------------------------------------------------------------------------------------

class ApiKeyCreateSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    dealer_id = fields.UUID(load_default=None, metadata={"description": "a dealer key's dealer"})
    salesperson = fields.String(
        load_default=None, validate=REGIONS_TEXT,
        metadata={"description": "a sales key's salesperson (K1: their own weekly report)"},
    )
    label = fields.String(load_default="", validate=validate.Length(max=200))


class ApiKeySchema(Schema):
    id = fields.String(required=True)
    role = fields.String()
    dealer_id = fields.String(allow_none=True)
    salesperson = fields.String(allow_none=True)
    label = fields.String()
    created_at = fields.String()
    revoked_at = fields.String(allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(required=True, metadata={"description": "shown this once only"})


class ApiKeyListSchema(Schema):
    keys = fields.List(fields.Nested(ApiKeySchema))


# --- misc ----------------------------------------------------------------------------------------

class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()


__all__ = ["Amount", "DecimalString", "MonthField"]
