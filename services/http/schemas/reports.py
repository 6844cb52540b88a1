"""/reports: the rebate ledger and its explanations (R5, R7), spare-parts budgets (S2, S3) and the
performance tables (K1–K5)."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.http.fields import (
    Amount,
    BusinessDate,
    DecimalString,
    MonthField,
    PeriodField,
    Text,
    WeekField,
)
from services.http.schemas.common import REGIONS_TEXT, format_field


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
    format = format_field()
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
    format = format_field()
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
    format = format_field()
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
    format = format_field()
    period = PeriodField(required=True)


class WeeklyQuerySchema(Schema):
    format = format_field()
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


class JournalLineSchema(Schema):
    date = BusinessDate()
    account = fields.String(metadata={"description": "the policy's account code (accounts.*)"})
    debit = Amount()
    credit = Amount()
    dealer_id = fields.String(metadata={"description": "the dealer, or the spare-parts pool's repair centre"})
    dealer_name = fields.String()
    reference = fields.String()


class AccountBalanceSchema(Schema):
    account = fields.String()
    balance = Amount(metadata={"description": "debit − credit"})


class AccrualsSchema(Schema):
    period = fields.String()
    closed_on = BusinessDate(allow_none=True)
    lines = fields.List(fields.Nested(JournalLineSchema))
    balances = fields.List(fields.Nested(AccountBalanceSchema))
    totals = fields.Dict(keys=fields.String(), values=Amount())
