"""/healthz: the service, its database and how far the read model is."""

from __future__ import annotations

from marshmallow import Schema, fields


class ReadModelHealthSchema(Schema):
    position = fields.Integer(metadata={"description": "the last log position the read model applied"})
    head = fields.Integer(metadata={"description": "the last log position stored"})
    lag = fields.Integer(metadata={"description": "head - position"})
    stopped_at = fields.Integer(metadata={"description": "the log position of the event the read "
                                          "model cannot apply (only when stopped)"})
    event_type = fields.String(metadata={"description": "that event's type (only when stopped)"})
    reason = fields.String(metadata={"description": "why it cannot be applied (only when stopped)"})
    since = fields.String(metadata={"description": "when the fault was recorded (UTC)"})


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok, or degraded (HTTP 503)"})
    database = fields.String()
    read_model = fields.Nested(ReadModelHealthSchema)
