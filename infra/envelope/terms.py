"""R4: the schema of a policy version's terms, as stated (PUT /policy) and as recorded."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from infra.envelope.fields import DecimalText


def _tiers(values: fields.Field) -> fields.Field:
    return fields.Dict(keys=fields.String(validate=validate.OneOf(["A", "AA", "SI", "END"])),
                       values=values, required=True)


class BracketSchema(Schema):
    threshold = DecimalText(required=True)
    rate = DecimalText(required=True)


def _section(name: str, **declared: fields.Field) -> fields.Field:
    return fields.Nested(Schema.from_dict(declared, name=f"Policy{name}Schema"), required=True)


def _whole() -> fields.Field:
    return fields.Integer(strict=True, required=True)


def _terms_schema(recorded: bool) -> type[Schema]:
    """R4: the terms of a policy version, as policy/default.toml writes one version: decimals as
    text, whole numbers as integers. `recorded`: as the log holds them, where a version published
    before a term of domain.policy.ADDED_TERMS existed lacks it."""

    def added() -> fields.Field:
        return fields.Integer(strict=True, required=not recorded)

    def added_text() -> fields.Field:
        return DecimalText(required=not recorded)

    tiers = validate.OneOf(["A", "AA", "SI", "END"])
    name = "Recorded" if recorded else ""
    return Schema.from_dict(
        {
            "seats": fields.Dict(keys=fields.String(validate=tiers),
                                 values=fields.Integer(strict=True), required=True),
            "discounts": _tiers(DecimalText()),
            "onboarding": _section(f"{name}Onboarding", forecast_months=_whole(),
                                   max_monthly_amount=added_text(), max_term_months=added()),
            "credit": _section(f"{name}Credit", multiple=DecimalText(required=True),
                               overdue_days=_whole(), qualifying_months=_whole(),
                               clean_months=_whole()),
            "monthly_rebate": _tiers(DecimalText()),
            "quarterly_rebate": fields.Dict(
                keys=fields.String(validate=tiers),
                values=fields.List(fields.Nested(BracketSchema)), required=True),
            "prices": fields.Nested(
                Schema.from_dict({"max_list_price": DecimalText(required=True)},
                                 name=f"Policy{name}PricesSchema"),
                required=not recorded),
            "spare_parts": _section(f"{name}SpareParts", rate=DecimalText(required=True),
                                    window_months=_whole(), max_draw_qty=added()),
            "performance": _section(f"{name}Performance", quota=DecimalText(required=True),
                                    bonus=DecimalText(required=True),
                                    probation_ratio=DecimalText(required=True),
                                    probation_months=_whole(), dismissal_months=_whole()),
            "orders": _section(f"{name}OrderBounds", max_lines=_whole(), max_qty=_whole(),
                               max_total=DecimalText(required=True)),
            "accounts": fields.Dict(keys=fields.String(), values=fields.String(),
                                    required=not recorded),
        },
        name=f"{name}PolicyTermsSchema",
    )


# The terms a new version states, every one (PUT /policy), and the terms of a recorded version
# (Policy.VersionPublished on Kafka), which may predate some of them.
PolicyTermsSchema: type[Schema] = _terms_schema(recorded=False)
RecordedPolicyTermsSchema: type[Schema] = _terms_schema(recorded=True)
