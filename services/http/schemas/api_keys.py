"""/api-keys: issuing, listing and revoking keys (admin)."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import Schema, fields, validate

from services.http.fields import Text
from services.http.keys import Role
from services.http.openapi import ABSENT
from services.http.schemas.common import REGIONS_TEXT


class ApiKeyCreateSchema(Schema):
    # services.http.keys.check_binding: a dealer key names its dealer, a sales key may name its
    # salesperson, no other key names either.
    OPENAPI: ClassVar[dict[str, Any]] = {"oneOf": [
        {"properties": {"role": {"enum": [Role.DEALER.value]}, "dealer_id": {"type": "string"},
                        "salesperson": ABSENT},
         "required": ["dealer_id"]},
        {"properties": {"role": {"enum": [Role.SALES.value]}, "dealer_id": ABSENT}},
        {"properties": {"role": {"enum": [r.value for r in Role
                                          if r not in (Role.DEALER, Role.SALES)]},
                        "dealer_id": ABSENT, "salesperson": ABSENT}},
    ]}

    role = fields.Enum(Role, by_value=fields.String, required=True)
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
