"""The CloudEvents 1.0 structured-mode envelope of Channel Ledger's events on Kafka (DESIGN: Kafka
contract): marshmallow schemas derived from the event classes' type hints, and the way back from
an envelope to the very domain event object the application's mapper gives.

Modules: `base` (constants, errors, event ids), `fields` (marshmallow fields, the field of a type
hint), `lines` (nested line schemas, NESTED), `terms` (R4 policy terms), `catalog` (event types),
`codec` (the CloudEvent schema, Envelope, Codec)."""

from infra.envelope.base import (
    CONTENT_TYPE,
    DATACONTENTTYPE,
    SOURCE,
    SPECVERSION,
    TYPE_PREFIX,
    EnvelopeError,
    MissingSchemaError,
    event_id,
)
from infra.envelope.catalog import EventCatalog, EventType
from infra.envelope.codec import CloudEventSchema, Codec, Envelope
from infra.envelope.fields import DecimalText, Money, StrictBoolean, StrictString, field_for
from infra.envelope.lines import (
    NESTED,
    CreditDetailsSchema,
    DisputedLineSchema,
    ForecastMonthSchema,
    IncidentSchema,
    OrderLineSchema,
    PriceItemSchema,
    QualifyingMonthSchema,
    ReturnLineSchema,
    SlipLineSchema,
)
from infra.envelope.terms import BracketSchema, PolicyTermsSchema, RecordedPolicyTermsSchema

__all__ = [
    "CONTENT_TYPE",
    "DATACONTENTTYPE",
    "NESTED",
    "SOURCE",
    "SPECVERSION",
    "TYPE_PREFIX",
    "BracketSchema",
    "CloudEventSchema",
    "Codec",
    "CreditDetailsSchema",
    "DecimalText",
    "DisputedLineSchema",
    "Envelope",
    "EnvelopeError",
    "EventCatalog",
    "EventType",
    "ForecastMonthSchema",
    "IncidentSchema",
    "MissingSchemaError",
    "Money",
    "OrderLineSchema",
    "PolicyTermsSchema",
    "PriceItemSchema",
    "QualifyingMonthSchema",
    "RecordedPolicyTermsSchema",
    "ReturnLineSchema",
    "SlipLineSchema",
    "StrictBoolean",
    "StrictString",
    "event_id",
    "field_for",
]
