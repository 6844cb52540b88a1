"""/rebate-slips: the slips a close issues (R5), their disputes and resolutions (R6)."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import Schema, fields, validate

from infra import envelope
from infra.envelope import StrictBoolean
from infra.envelope.fields import NONZERO_MONEY_IN
from services.http.fields import (
    FILLED,
    YES_OR_NO,
    Amount,
    BusinessDate,
    Count,
    DecimalString,
    MoneyIn,
    PeriodField,
    Text,
)
from services.http.schemas.common import NOTE_TEXT, answer_schema, format_field, when

# A slip's line as RebateSlip.Issued records it, with its status; the read model renders `why`
# from the figures, and may leave out what a correction line does not have.
SlipLineSchema = answer_schema(
    envelope.SlipLineSchema, "SlipLineSchema", exclude=("slip_id",),
    kind=fields.String(metadata={"description": "monthly, quarterly or correction"}),
    rate=DecimalString(allow_none=True),
    policy_version=fields.String(allow_none=True),
    rule=fields.String(allow_none=True),
    why=fields.String(
        allow_none=True, metadata={"description": "a sentence rendered from the line's figures (R7)"}
    ),
    next_threshold=Amount(
        allow_none=True, metadata={"description": "the net sales that earn the next rate up (R2, R3)"}
    ),
    next_rate=DecimalString(allow_none=True),
    note=fields.String(allow_none=True, metadata={"description": "a correction: finance's note (R6)"}),
    status=fields.String(metadata={"description": "issued, confirmed, disputed, accepted, rejected"}),
)
DisputedLineSchema = answer_schema(envelope.DisputedLineSchema, "DisputedLineSchema")


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
    format = format_field()
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
    # domain.rebate_slip.RebateSlip.resolve: accepted with a correcting amount that is not zero,
    # or rejected with a reason.
    OPENAPI: ClassVar[dict[str, Any]] = {"oneOf": [
        {"properties": {"accept": {"enum": [True]},
                        "amount": {"type": "string", "pattern": NONZERO_MONEY_IN}},
         "required": ["amount"]},
        {"properties": {"accept": {"enum": [False]}, "note": {"type": "string", "pattern": FILLED}},
         "required": ["note"]},
    ]}

    dispute = Count(required=True, validate=validate.Range(min=1, max=1000))
    accept = StrictBoolean(required=True, error_messages=YES_OR_NO)
    amount = MoneyIn(
        signed=True, load_default=None,
        metadata={"description": "accepted: the correcting amount, booked in the open month"},
    )
    note = Text(load_default="", validate=NOTE_TEXT)
    resolved_on = when("date of the decision")
