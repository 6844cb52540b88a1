"""The answers of finance's printed tables (/reports/rebate-confirmations, /sales-performance,
/salesperson-performance, /quarterly-rebates): R3, R5, R6, K2, K4, K5."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.http.fields import Amount, BusinessDate, DecimalString

ANSWERS = "the dealer's answer: confirmed, disputed, or none yet"


class FormLineSchema(Schema):
    line = fields.Integer()
    kind = fields.String(metadata={"description": "monthly, quarterly or correction"})
    period = fields.String()
    tier = fields.String(allow_none=True)
    basis = Amount(allow_none=True)
    threshold = Amount(allow_none=True)
    rate = DecimalString(allow_none=True)
    amount = Amount()
    answer = fields.String(allow_none=True, metadata={"description": ANSWERS})
    reason = fields.String(allow_none=True, metadata={"description": "the dispute's reason (R6)"})
    resolution = fields.String(allow_none=True, metadata={"description": "open, accepted or rejected"})
    resolved_on = BusinessDate(allow_none=True)
    correction = Amount(allow_none=True, metadata={"description": "the correcting entry (R6)"})
    note = fields.String(allow_none=True, metadata={"description": "finance's note"})


class FormSchema(Schema):
    slip_id = fields.String()
    dealer_id = fields.String()
    dealer_name = fields.String()
    region = fields.String(allow_none=True)
    month = fields.String(metadata={"description": "the closed month that issued the slip (R5)"})
    issued_on = BusinessDate(allow_none=True)
    status = fields.String(metadata={"description": "issued, confirmed, disputed or resolved"})
    answer = fields.String(metadata={"description": "confirmed, disputed or awaiting"})
    answered_on = BusinessDate(allow_none=True)
    total = Amount()
    lines = fields.List(fields.Nested(FormLineSchema))


class ConfirmationsSchema(Schema):
    period = fields.String()
    forms = fields.List(fields.Nested(FormSchema))


class PerformanceFiguresSchema(Schema):
    orders = fields.Integer()
    net_sales = Amount()
    deliveries = Amount()
    returns = Amount()
    rebates = Amount()
    target = Amount(allow_none=True, metadata={
        "description": "the agreed monthly amount for each month of the period the agreement "
                       "covers (K5)"})
    achievement = DecimalString(allow_none=True, metadata={
        "description": "net sales ÷ target, a ratio (1.0 is 100 %)"})


class DealerPerformanceSchema(PerformanceFiguresSchema):
    dealer_id = fields.String()
    name = fields.String()
    region = fields.String()
    tier = fields.String()
    salesperson = fields.String()


class RegionPerformanceSchema(PerformanceFiguresSchema):
    region = fields.String()
    dealers = fields.Integer()
    lacks_aa_successor = fields.Boolean(metadata={"description": "D5 flag"})


class SalesPerformanceSchema(Schema):
    period = fields.String()
    region = fields.String(allow_none=True)
    dealers = fields.List(fields.Nested(DealerPerformanceSchema))
    regions = fields.List(fields.Nested(RegionPerformanceSchema))
    totals = fields.Nested(PerformanceFiguresSchema)


class SalespersonPerformanceRowSchema(Schema):
    rank = fields.Integer()
    salesperson = fields.String()
    region = fields.String()
    dealers = fields.Integer(metadata={"description": "dealers owned at the period's end (D8)"})
    orders = fields.Integer()
    net_sales = Amount()
    deliveries = Amount()
    returns = Amount()
    rebates = Amount(metadata={"description": "what the salesperson's dealers earn (R1)"})
    quota = Amount()
    carried = Amount()
    target = Amount()
    reached = fields.Boolean()
    achievement = DecimalString(allow_none=True)
    bonus = Amount()
    flags = fields.List(fields.String())


class SalespersonTotalsSchema(Schema):
    dealers = fields.Integer()
    orders = fields.Integer()
    net_sales = Amount()
    deliveries = Amount()
    returns = Amount()
    rebates = Amount()
    quota = Amount()
    bonus = Amount()


class SalespersonPerformanceSchema(Schema):
    period = fields.String()
    salespeople = fields.List(fields.Nested(SalespersonPerformanceRowSchema))
    totals = fields.Nested(SalespersonTotalsSchema)


class QuarterBracketSchema(Schema):
    tier = fields.String()
    bracket = fields.Integer()
    threshold = Amount()
    upper = Amount(allow_none=True, metadata={"description": "the next threshold (excluded)"})
    rate = DecimalString()


class StandingSchema(Schema):
    dealer_id = fields.String()
    dealer_name = fields.String()
    region = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    basis = Amount(allow_none=True, metadata={"description": "the quarter's net sales (O5)"})
    bracket = fields.Integer(allow_none=True)
    threshold = Amount(allow_none=True)
    rate = DecimalString(allow_none=True)
    amount = Amount()
    status = fields.String(metadata={"description": "accrued or posted"})
    next_threshold = Amount(allow_none=True)
    next_rate = DecimalString(allow_none=True)
    distance = Amount(allow_none=True)
    policy_version = fields.String(allow_none=True)
    slip_id = fields.String(allow_none=True)


class QuarterlyRebatesSchema(Schema):
    quarter = fields.String()
    policy_version = fields.String(metadata={"description": "in force on the quarter's first day (R4)"})
    brackets = fields.List(fields.Nested(QuarterBracketSchema))
    dealers = fields.List(fields.Nested(StandingSchema))
