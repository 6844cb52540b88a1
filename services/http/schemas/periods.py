"""/periods: closing a month (O6)."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.http.fields import BusinessDate
from services.http.schemas.common import when


class PeriodCloseSchema(Schema):
    closed_on = when("business date of the close")


class PeriodClosedSchema(Schema):
    month = fields.String()
    closed_on = BusinessDate()
    covers_from = fields.Integer()
    covers_to = fields.Integer()
    chain_hash = fields.String()
