"""/api-keys: issuing, listing and revoking keys (admin)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.http.fields import Text
from services.http.keys import Role
from services.http.schemas.common import REGIONS_TEXT


class ApiKeyCreateSchema(Schema):
    role = fields.Enum(Role, by_value=Text, required=True)
    dealer_id = fields.UUID(load_default=None, metadata={"description": "a dealer key's dealer"})
    salesperson = Text(
        load_default=None, validate=REGIONS_TEXT,
        metadata={"description": "a sales key's salesperson (K1: their own weekly report)"},
    )
    label = Text(load_default="", validate=validate.Length(max=200))


class ApiKeySchema(Schema):
    id = fields.String(required=True)
    role = fields.String()
    dealer_id = fields.String(allow_none=True)
    salesperson = fields.String(allow_none=True)
    label = fields.String()
    created_at = fields.String()
    revoked_at = fields.String(allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(required=True, metadata={"description": "shown this once only"})


class ApiKeyListSchema(Schema):
    keys = fields.List(fields.Nested(ApiKeySchema))
