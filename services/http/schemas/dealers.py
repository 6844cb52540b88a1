"""/dealers: registration, onboarding (D1–D3), tier, salesperson, incidents, termination, repair
centre (D4–D8, S1)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain.dealer import DealerStatus, IncidentKind
from domain.limits import MAX_FORECAST_MONTHS, MAX_TERM_MONTHS
from domain.values import Tier
from infra import envelope
from services.http.fields import Amount, BusinessDate, Count, MoneyIn, MonthField, Text
from services.http.schemas.common import NAME_TEXT, NOTE_TEXT, REGIONS_TEXT, answer_schema, when


class DealerCreateSchema(Schema):
    name = Text(required=True, validate=NAME_TEXT)
    region = Text(required=True, validate=REGIONS_TEXT)
    tier = fields.Enum(Tier, by_value=fields.String, required=True)
    salesperson = Text(required=True, validate=REGIONS_TEXT)
    contact = Text(required=True, validate=validate.Length(min=1, max=500))
    registered_on = when("registration date")


class ForecastMonthSchema(Schema):
    month = MonthField(required=True)
    amount = MoneyIn(required=True)


class AgreementSchema(Schema):
    signed_on = BusinessDate()
    tier = fields.String()
    region = fields.String()
    monthly_amount = Amount()
    term_months = fields.Integer()
    start_month = fields.String(allow_none=True)
    ends_on = BusinessDate(allow_none=True)


IncidentSchema = answer_schema(envelope.IncidentSchema, "IncidentSchema")


class DealerSchema(Schema):
    id = fields.String(required=True)
    name = fields.String()
    region = fields.String()
    tier = fields.String()
    salesperson = fields.String()
    contact = fields.String()
    status = fields.Enum(DealerStatus, by_value=fields.String)
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
    tier = fields.Enum(Tier, by_value=fields.String)


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
    monthly_amount = MoneyIn(required=True, positive=True)
    # The policy's max_term_months (O1) refuses longer terms; this is the ceiling it stays within.
    term_months = Count(required=True, validate=validate.Range(min=1, max=MAX_TERM_MONTHS))


class TierChangeSchema(Schema):
    tier = fields.Enum(Tier, by_value=fields.String, required=True)
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))
    effective_on = when("date the tier changes")


class ReassignmentSchema(Schema):
    salesperson = Text(required=True, validate=REGIONS_TEXT)
    effective_on = when("date the dealer changes hands")


class IncidentCreateSchema(Schema):
    kind = fields.Enum(IncidentKind, by_value=fields.String, required=True)
    occurred_on = when("date of the incident")
    note = Text(load_default="", validate=NOTE_TEXT)


class TerminationSchema(Schema):
    terminated_on = when("termination date")
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class RepairCentreSchema(Schema):
    signed_on = when("signing date of the repair-centre agreement")
