"""Explicit schemas for nested values of events whose hint is `dict[str, Any]` (order, return,
price, slip lines, C2's criteria...), and NESTED: which event field each one decodes."""

from __future__ import annotations

from marshmallow import Schema, fields

from domain.lines import DisputedLine, ForecastMonth, OrderLine, ReturnLine
from infra.envelope.fields import Money, StrictBoolean, StrictString, value_schema
from infra.envelope.fields import required_string as _str
from infra.envelope.terms import RecordedPolicyTermsSchema

# The typed values of domain/lines.py: their schemas come from their fields (value_schema), and
# an event field hinted `list[OrderLine]` gets one without an entry in NESTED.
OrderLineSchema = value_schema(OrderLine)
ReturnLineSchema = value_schema(ReturnLine)
ForecastMonthSchema = value_schema(ForecastMonth)
DisputedLineSchema = value_schema(DisputedLine)


class PriceItemSchema(Schema):
    sku = _str()
    name = _str()
    list_price = Money(required=True)
    floor_price = Money(required=True)
    tier_prices = fields.Dict(keys=StrictString(), values=Money(), required=True)


class IncidentSchema(Schema):
    kind = _str()
    occurred_on = fields.Date(required=True)
    note = _str()


class QualifyingMonthSchema(Schema):
    month = _str()
    order_value = Money(required=True)
    agreed = Money(required=True)


def _criterion(**extra: fields.Field) -> type[Schema]:
    return Schema.from_dict({"met": StrictBoolean(required=True), **extra})


# C2's five criteria with the figures behind each (CreditLine.Evaluated.details); from_dict
# because the keys "1".."5" are no identifiers.
CreditDetailsSchema: type[Schema] = Schema.from_dict(
    {
        "1": fields.Nested(_criterion(status=_str()), required=True),
        "2": fields.Nested(
            _criterion(months=fields.List(fields.Nested(QualifyingMonthSchema), required=True)),
            required=True,
        ),
        "3": fields.Nested(
            _criterion(
                since=fields.Date(required=True),
                incidents=fields.List(fields.Nested(IncidentSchema), required=True),
            ),
            required=True,
        ),
        "4": fields.Nested(_criterion(attested=StrictBoolean(required=True)), required=True),
        "5": fields.Nested(
            _criterion(violations=fields.List(fields.Nested(IncidentSchema), required=True)),
            required=True,
        ),
    },
    name="CreditDetailsSchema",
)


class SlipLineSchema(Schema):
    """A line of a rebate confirmation slip (R5): a posted figure or an R6 correction. Lines carry
    figures; slips issued before that also hold a `why` sentence, so it is optional (a line
    decodes with it or without it, exactly as the store holds it)."""

    line = fields.Integer(strict=True, required=True)
    kind = _str()
    period = _str()
    basis = Money(required=True, allow_none=True)
    rate = Money(required=True, allow_none=True)
    amount = Money(required=True)
    policy_version = _str()
    tier = StrictString(required=True, allow_none=True)
    threshold = Money(required=True, allow_none=True)
    reached = StrictBoolean(required=True, allow_none=True)
    rule = _str()
    why = StrictString()
    # Monthly and quarterly lines: the next rate up and the net sales it needs (R2, R3).
    next_threshold = Money(allow_none=True)
    next_rate = Money(allow_none=True)
    # Corrections only: the slip and dispute the correction comes from, and finance's note.
    slip_id = StrictString(allow_none=True)
    dispute = fields.Integer(strict=True, allow_none=True)
    note = StrictString()


# (event class qualname, field) -> the schema of one nested value; `many` for list fields.
NESTED: dict[tuple[str, str], tuple[type[Schema], bool]] = {
    ("PriceList.VersionPublished", "items"): (PriceItemSchema, True),
    ("PriceList.ItemsStaged", "items"): (PriceItemSchema, True),
    ("PriceList.StagedVersionPublished", "items"): (PriceItemSchema, True),
    ("CreditLine.Evaluated", "details"): (CreditDetailsSchema, False),
    ("RebateSlip.Issued", "lines"): (SlipLineSchema, True),
    ("Policy.VersionPublished", "terms"): (RecordedPolicyTermsSchema, False),
}
