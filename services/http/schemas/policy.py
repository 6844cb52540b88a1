"""/policy: the policy versions recorded in the log (R4)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from infra.envelope import PolicyTermsSchema, RecordedPolicyTermsSchema
from services.http.fields import BusinessDate, Text
from services.http.schemas.common import NOTE_TEXT


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
    # As recorded: a version published from a policy file may hold figures that PUT's stated
    # patterns do not take (more decimals), and it answers them as they are.
    terms = fields.Nested(RecordedPolicyTermsSchema)


class PolicyQuerySchema(Schema):
    on = BusinessDate(metadata={"description": "the version in force on this date; default today"})
