"""Request and response schemas of the HTTP contract (DESIGN.md), one section per resource. Money is
a decimal string, dates are ISO; a request schema refuses unknown fields."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain.limits import (
    MAX_FORECAST_MONTHS,
    MAX_ORDER_LINES,
    MAX_PRICE_ITEMS,
    MAX_QTY,
    MAX_TERM_MONTHS,
)
from infra.envelope import PolicyTermsSchema
from services.http.fields import (
    Amount,
    BusinessDate,
    Count,
    DecimalString,
    Money,
    MonthField,
    PeriodField,
    StrictBoolean,
    Text,
    WeekField,
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
    name = Text(required=True, validate=NAME_TEXT)
    region = Text(required=True, validate=REGIONS_TEXT)
    tier = Text(required=True, validate=validate.OneOf(TIERS))
    salesperson = Text(required=True, validate=REGIONS_TEXT)
    contact = Text(required=True, validate=validate.Length(min=1, max=500))
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
    region = Text(validate=REGIONS_TEXT)
    tier = Text(validate=validate.OneOf(TIERS))


class DealerRowSchema(Schema):
    dealer_id = fields.String()
    name = fields.String()
    region = fields.String()
    tier = fields.String()
    salesperson = fields.String()
    status = fields.String()
    registered_on = BusinessDate()
    monthly_amount = Amount(allow_none=True)
    start_month = fields.String(allow_none=True)
    repair_centre = fields.Boolean()
    terminated_on = BusinessDate(allow_none=True)


class DealerListSchema(Schema):
    dealers = fields.List(fields.Nested(DealerRowSchema))


class DraftAgreementSchema(Schema):
    signed_on = when("signing date")


class ForecastSchema(Schema):
    months = fields.List(
        fields.Nested(ForecastMonthSchema), required=True,
        validate=validate.Length(min=1, max=MAX_FORECAST_MONTHS),
    )


class FormalAgreementSchema(Schema):
    signed_on = when("signing date")
    monthly_amount = Money(required=True)
    # The policy's max_term_months (O1) refuses longer terms; this is the ceiling it stays within.
    term_months = Count(required=True, validate=validate.Range(min=1, max=MAX_TERM_MONTHS))


class TierChangeSchema(Schema):
    tier = Text(required=True, validate=validate.OneOf(TIERS))
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))
    effective_on = when("date the tier changes")


class ReassignmentSchema(Schema):
    salesperson = Text(required=True, validate=REGIONS_TEXT)
    effective_on = when("date the dealer changes hands")


class IncidentCreateSchema(Schema):
    kind = fields.String(
        required=True, validate=validate.OneOf(("violation", "bad_debt", "dispute"))
    )
    occurred_on = when("date of the incident")
    note = Text(load_default="", validate=NOTE_TEXT)


class TerminationSchema(Schema):
    terminated_on = when("termination date")
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


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
    part = Text(required=True, validate=validate.Length(min=1, max=200))
    qty = Count(required=True, validate=validate.Range(min=1, max=MAX_QTY))
    value = Money(required=True, metadata={"description": "cost value of the parts drawn"})


# --- price list (P) ----------------------------------------------------------------------------

class PriceItemInSchema(Schema):
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    name = Text(load_default="", validate=validate.Length(max=200))
    list_price = Money(required=True)
    floor_price = Money(required=True)


class PriceListPublishSchema(Schema):
    effective_from = BusinessDate(required=True)
    items = fields.List(
        fields.Nested(PriceItemInSchema), required=True,
        validate=validate.Length(min=1, max=MAX_PRICE_ITEMS),
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
    # The bounds of the policy in force on the order date (O1: max_qty, max_lines, max_total)
    # refuse with 409 naming the field; the schema keeps the structural ceilings they stay within.
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    qty = Count(required=True, validate=validate.Range(min=1, max=MAX_QTY))
    unit_price = Money(
        load_default=None,
        metadata={"description": "asked price; default the dealer's tier price (P3)"},
    )


class OrderCreateSchema(Schema):
    dealer_id = fields.UUID(required=True)
    client_ref = Text(
        required=True, validate=validate.Length(min=1, max=100),
        metadata={"description": "unique per dealer: the same order sent twice is one order (O1)"},
    )
    order_date = when("order date")
    ship_to_region = Text(required=True, validate=REGIONS_TEXT)
    payment = fields.String(required=True, validate=validate.OneOf(("prepaid", "credit")))
    lines = fields.List(
        fields.Nested(OrderLineInSchema), required=True,
        validate=validate.Length(min=1, max=MAX_ORDER_LINES),
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
    status = Text(validate=validate.OneOf(ORDER_STATUSES))


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
    approve = StrictBoolean(required=True)
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
    amount = Money(required=True)


class ReturnLineInSchema(Schema):
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    qty = Count(required=True, validate=validate.Range(min=1, max=MAX_QTY))


class ReturnSchema(Schema):
    returned_on = when("return date")
    lines = fields.List(
        fields.Nested(ReturnLineInSchema), required=True,
        validate=validate.Length(min=1, max=MAX_ORDER_LINES),
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


# --- rebate slips (R5, R6) ----------------------------------------------------------------------

class SlipLineSchema(Schema):
    line = fields.Integer()
    kind = fields.String(metadata={"description": "monthly, quarterly or correction"})
    period = fields.String()
    basis = Amount(allow_none=True)
    rate = DecimalString(allow_none=True)
    amount = Amount()
    policy_version = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    threshold = Amount(allow_none=True)
    reached = fields.Boolean(allow_none=True)
    rule = fields.String(allow_none=True)
    why = fields.String(
        allow_none=True, metadata={"description": "a sentence rendered from the line's figures (R7)"}
    )
    next_threshold = Amount(
        allow_none=True, metadata={"description": "the net sales that earn the next rate up (R2, R3)"}
    )
    next_rate = DecimalString(allow_none=True)
    dispute = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "a correction: finance's note (R6)"})
    status = fields.String(metadata={"description": "issued, confirmed, disputed, accepted, rejected"})


class DisputedLineSchema(Schema):
    line = fields.Integer()
    reason = fields.String()


class ResolutionRecordSchema(Schema):
    accept = fields.Boolean()
    amount = Amount(allow_none=True)
    note = fields.String()
    resolved_on = BusinessDate()
    period = fields.String()


class DisputeRecordSchema(Schema):
    dispute = fields.Integer()
    lines = fields.List(fields.Nested(DisputedLineSchema))
    disputed_on = BusinessDate()
    resolution = fields.Nested(ResolutionRecordSchema, allow_none=True)
    status = fields.String(metadata={"description": "open, accepted or rejected"})


class SlipSchema(Schema):
    slip_id = fields.String(required=True)
    dealer_id = fields.String()
    dealer_name = fields.String()
    period = fields.String()
    status = fields.String(metadata={"description": "issued, confirmed, disputed, resolved"})
    issued_on = BusinessDate()
    confirmed_on = BusinessDate(allow_none=True)
    total = Amount()
    lines = fields.List(fields.Nested(SlipLineSchema))
    disputes = fields.List(fields.Nested(DisputeRecordSchema))


class SlipListSchema(Schema):
    slips = fields.List(fields.Nested(SlipSchema))


class SlipQuerySchema(Schema):
    dealer_id = fields.UUID()
    period = PeriodField()


class SlipConfirmationSchema(Schema):
    confirmed_on = when("confirmation date")


class DisputeLineInSchema(Schema):
    line = Count(required=True, validate=validate.Range(min=1, max=1000))
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class SlipDisputeSchema(Schema):
    lines = fields.List(
        fields.Nested(DisputeLineInSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    disputed_on = when("date of the dispute")


class SlipResolutionSchema(Schema):
    dispute = Count(required=True, validate=validate.Range(min=1, max=1000))
    accept = StrictBoolean(required=True)
    amount = Money(
        signed=True, load_default=None,
        metadata={"description": "accepted: the correcting amount, booked in the open month"},
    )
    note = Text(load_default="", validate=NOTE_TEXT)
    resolved_on = when("date of the decision")


# --- reports (R, S, K) ---------------------------------------------------------------------------

class RebateEntrySchema(Schema):
    dealer_id = fields.String()
    dealer_name = fields.String()
    period = fields.String(metadata={"description": "YYYY-MM (monthly) or YYYY-Qn (quarterly)"})
    kind = fields.String(metadata={"description": "monthly, quarterly or correction"})
    status = fields.String(metadata={"description": "accrued or posted"})
    basis = Amount(allow_none=True)
    rate = DecimalString(allow_none=True)
    amount = Amount()
    policy_version = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    threshold = Amount(allow_none=True)
    slip_id = fields.String(allow_none=True)
    reached = fields.Boolean(allow_none=True)
    why = fields.String(
        allow_none=True, metadata={"description": "a sentence rendered from the entry's figures (R7)"}
    )
    rule = fields.String(allow_none=True)
    next_threshold = Amount(
        allow_none=True, metadata={"description": "the net sales that earn the next rate up (R2, R3)"}
    )
    next_rate = DecimalString(allow_none=True)
    distance = Amount(allow_none=True, metadata={"description": "net sales still needed to reach it"})
    dispute = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "a correction: finance's note (R6)"})
    facts = fields.List(fields.Integer(), metadata={"description": "log positions of the basis"})


class RebatesSchema(Schema):
    entries = fields.List(fields.Nested(RebateEntrySchema))


class RebateQuerySchema(Schema):
    period = PeriodField(required=True)
    dealer_id = fields.UUID()


class FactLineSchema(Schema):
    sku = fields.String()
    name = fields.String()
    qty = fields.Integer()
    unit_price = Amount()
    amount = Amount()


class FactSchema(Schema):
    position = fields.Integer()
    kind = fields.String(metadata={"description": "delivery or return"})
    order_id = fields.String()
    client_ref = fields.String()
    order_date = BusinessDate(allow_none=True)
    business_date = BusinessDate(allow_none=True)
    value = Amount()
    lines = fields.List(fields.Nested(FactLineSchema))


class ExplanationSchema(Schema):
    dealer_id = fields.String()
    dealer_name = fields.String()
    region = fields.String()
    period = fields.String()
    agreed_monthly_amount = Amount(allow_none=True)
    entries = fields.List(fields.Nested(RebateEntrySchema))
    net_sales = Amount()
    deliveries = fields.List(fields.Nested(FactSchema))
    returns = fields.List(fields.Nested(FactSchema))


class SpareBudgetSchema(Schema):
    pool = fields.String(metadata={"description": "the repair centre's dealer id, or national"})
    pool_name = fields.String()
    region = fields.String()
    month = fields.String()
    regions = fields.List(fields.String())
    basis = Amount()
    allocated = Amount()
    drawn = Amount()
    carried_over = Amount()
    balance = Amount()
    status = fields.String(metadata={"description": "allocated, accrued or none"})
    policy_version = fields.String(allow_none=True)


class SpareBudgetsSchema(Schema):
    pools = fields.List(fields.Nested(SpareBudgetSchema))


class MonthQuerySchema(Schema):
    month = MonthField(required=True)


class DealerRankingRowSchema(Schema):
    rank = fields.Integer()
    dealer_id = fields.String()
    name = fields.String()
    region = fields.String()
    tier = fields.String()
    salesperson = fields.String()
    net_sales = Amount()
    deliveries = Amount()
    returns = Amount()
    region_rank = fields.Integer()


class DealerRankingSchema(Schema):
    rows = fields.List(fields.Nested(DealerRankingRowSchema))


class DealerRankingQuerySchema(Schema):
    period = PeriodField(required=True)
    region = Text(validate=REGIONS_TEXT)


class SalespersonRowSchema(Schema):
    rank = fields.Integer()
    salesperson = fields.String()
    region = fields.String()
    net_sales = Amount()
    quota = Amount(metadata={"description": "plain quota of the period's quota months (K4)"})
    carried = Amount(metadata={"description": "the unmet target carried into the period (K4)"})
    target = Amount(metadata={"description": "quota + carried (K4)"})
    reached = fields.Boolean(metadata={"description": "the period's net sales reach the target"})
    achievement = DecimalString(
        allow_none=True, metadata={"description": "a ratio: 1.0 is 100 % (K4)"}
    )
    flags = fields.List(
        fields.String(),
        metadata={"description": "K4 flags decided in the period: probation_extended, dismissal_review"},
    )
    bonus = Amount()
    bonus_candidate = fields.Boolean(
        metadata={"description": "K2: the first in the region to reach the month's target"}
    )
    reached_quota_on = BusinessDate(allow_none=True)
    reached_target_on = BusinessDate(allow_none=True)


class SalespersonRankingSchema(Schema):
    rows = fields.List(fields.Nested(SalespersonRowSchema))


class PeriodQuerySchema(Schema):
    period = PeriodField(required=True)


class WeeklyQuerySchema(Schema):
    salesperson = Text(required=True, validate=REGIONS_TEXT)
    week = WeekField(required=True)


class WeeklyDealerSchema(Schema):
    dealer_id = fields.String()
    name = fields.String()
    net_sales = Amount()
    deliveries = Amount()
    returns = Amount()


class ProgressDealerSchema(Schema):
    dealer_id = fields.String()
    name = fields.String()
    on = BusinessDate()


class ProgressSchema(Schema):
    count = fields.Integer()
    dealers = fields.List(fields.Nested(ProgressDealerSchema))


class WeeklyForecastSchema(Schema):
    dealer_id = fields.String()
    name = fields.String()
    month = fields.String()
    amount = Amount()


class WeeklySchema(Schema):
    salesperson = fields.String()
    week = fields.String()
    from_ = BusinessDate(data_key="from", attribute="from")
    to = BusinessDate()
    net_sales = Amount()
    deliveries = Amount()
    returns = Amount()
    by_dealer = fields.List(fields.Nested(WeeklyDealerSchema))
    month_to_date = Amount()
    quota = Amount()
    progress = fields.Dict(keys=fields.String(), values=fields.Nested(ProgressSchema))
    forecasts = fields.List(fields.Nested(WeeklyForecastSchema))
    dealers = fields.List(fields.String())


class StatisticsFiguresSchema(Schema):
    orders = fields.Integer()
    net_sales = Amount()
    deliveries = Amount()
    returns = Amount()
    rebates = Amount()


class DealerStatisticsSchema(StatisticsFiguresSchema):
    dealer_id = fields.String()
    name = fields.String()
    region = fields.String()
    tier = fields.String()


class SalespersonStatisticsSchema(StatisticsFiguresSchema):
    salesperson = fields.String()
    region = fields.String()
    quota = Amount()
    achievement = DecimalString(allow_none=True)
    flags = fields.List(fields.String())


class RegionStatisticsSchema(StatisticsFiguresSchema):
    region = fields.String()
    dealers = fields.Integer()
    lacks_aa_successor = fields.Boolean(metadata={"description": "D5 flag"})


class StatisticsSchema(Schema):
    period = fields.String()
    dealers = fields.List(fields.Nested(DealerStatisticsSchema))
    salespeople = fields.List(fields.Nested(SalespersonStatisticsSchema))
    regions = fields.List(fields.Nested(RegionStatisticsSchema))
    totals = fields.Nested(StatisticsFiguresSchema)


# --- api keys ------------------------------------------------------------------------------------

class ApiKeyCreateSchema(Schema):
    role = Text(required=True, validate=validate.OneOf(ROLES))
    dealer_id = fields.UUID(load_default=None, metadata={"description": "a dealer key's dealer"})
    salesperson = Text(
        load_default=None, validate=REGIONS_TEXT,
        metadata={"description": "a sales key's salesperson (K1: their own weekly report)"},
    )
    label = Text(load_default="", validate=validate.Length(max=200))


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

class ReadModelHealthSchema(Schema):
    position = fields.Integer(metadata={"description": "the last log position the read model applied"})
    head = fields.Integer(metadata={"description": "the last log position stored"})
    lag = fields.Integer(metadata={"description": "head - position"})
    stopped_at = fields.Integer(metadata={"description": "the log position of the event the read "
                                          "model cannot apply (only when stopped)"})
    event_type = fields.String(metadata={"description": "that event's type (only when stopped)"})
    reason = fields.String(metadata={"description": "why it cannot be applied (only when stopped)"})
    since = fields.String(metadata={"description": "when the fault was recorded (UTC)"})


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok, or degraded (HTTP 503)"})
    database = fields.String()
    read_model = fields.Nested(ReadModelHealthSchema)



# --- policy (R4) ---------------------------------------------------------------------------------

class PolicyPublishSchema(Schema):
    effective_from = BusinessDate(
        required=True, metadata={"description": "a day of an open month (O6)"}
    )
    id = Text(required=True, validate=validate.Length(min=1, max=64),
              metadata={"description": "the version's id, unique in the log (e.g. 2026.2)"})
    note = Text(load_default="", validate=NOTE_TEXT)
    # The same definition as the event's terms on Kafka (infra.envelope): one schema for both.
    terms = fields.Nested(PolicyTermsSchema, required=True)


class PolicyVersionSchema(Schema):
    id = fields.String()
    number = fields.Integer(metadata={"description": "the publication's number in the log"})
    effective_from = BusinessDate()
    note = fields.String()
    terms = fields.Nested(PolicyTermsSchema)


class PolicyQuerySchema(Schema):
    on = BusinessDate(metadata={"description": "the version in force on this date; default today"})
