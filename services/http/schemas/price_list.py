"""/price-list: a version to publish (P1, P2) and the version in force (P4)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain.limits import MAX_PRICE_ITEMS
from services.http.fields import Amount, BusinessDate, MoneyIn, Text


class PriceItemInSchema(Schema):
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    name = Text(load_default="", validate=validate.Length(max=200))
    list_price = MoneyIn(required=True, positive=True)
    floor_price = MoneyIn(required=True, positive=True)


class PriceListPublishSchema(Schema):
    effective_from = BusinessDate(required=True)
    items = fields.List(
        fields.Nested(PriceItemInSchema), required=True,
        validate=validate.Length(min=1, max=MAX_PRICE_ITEMS),
    )


class TierPricesSchema(Schema):
    A = Amount()
    AA = Amount()
    SI = Amount()
    END = Amount()


class PriceItemSchema(Schema):
    sku = fields.String()
    name = fields.String()
    list_price = Amount()
    floor_price = Amount()
    tier_prices = fields.Nested(TierPricesSchema)


class PriceListVersionSchema(Schema):
    number = fields.Integer()
    effective_from = BusinessDate()
    policy_version = fields.String()
    items = fields.List(fields.Nested(PriceItemSchema))


class PriceListQuerySchema(Schema):
    on = BusinessDate(metadata={"description": "the version in force on this date; default today"})
