"""/spare-parts and the repair centre's pool (S1–S3)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain.limits import MAX_QTY
from services.http.fields import Amount, BusinessDate, Count, MoneyIn, Text
from services.http.schemas.common import when


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
    value = MoneyIn(required=True, positive=True, metadata={"description": "cost value of the parts drawn"})
