"""/credit: a tier-A dealer's rating (C2) and credit line (C3–C5)."""

from __future__ import annotations

from marshmallow import Schema, fields

from domain.credit import CreditStatus
from infra.envelope import StrictBoolean
from services.http.fields import YES_OR_NO, Amount, BusinessDate
from services.http.schemas.common import when


class EvaluationRecordSchema(Schema):
    as_of = BusinessDate()
    eligible = fields.Boolean()
    failed_criteria = fields.List(fields.Integer())


class SuspensionSchema(Schema):
    on = BusinessDate()
    reason = fields.String()


class CreditLineSchema(Schema):
    dealer_id = fields.String(required=True)
    status = fields.Enum(CreditStatus, by_value=fields.String)
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
        load_default=False, error_messages=YES_OR_NO,
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
