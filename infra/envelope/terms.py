"""R4: the schema of a policy version's terms, as stated (PUT /policy) and as recorded.

A new version states every term within the bounds `domain.policy.version_from_terms` applies
(`domain.limits`), and the stated schema says so, field by field (patterns, minimum and maximum,
the tiers a table may name, the accounts it must name), so that the OpenAPI document gives the
same answer the domain does. A recorded version is read as the log holds it: no bound, and the
terms added since (domain.policy.ADDED_TERMS) may be missing."""

from __future__ import annotations

from collections.abc import Callable

from marshmallow import Schema, fields, validate

from domain import limits
from domain.policy_terms import DEFAULT_ACCOUNTS
from infra.envelope.fields import MONEY_IN, POSITIVE_MONEY_IN, DecimalText

TIERS = ("A", "AA", "SI", "END")
# A rate or ratio from 0 to 1, and the credit multiple from 0 to 100, any number of decimals.
RATE = r"^(0(\.[0-9]+)?|1(\.0+)?)$"
MULTIPLE = r"^([0-9]{1,2}(\.[0-9]+)?|100(\.0+)?)$"
ACCOUNT = r"^[0-9.-]{1,20}$"  # an account code: digits, dots and dashes

Make = Callable[[], fields.Field]


class BracketSchema(Schema):
    threshold = DecimalText(required=True)
    rate = DecimalText(required=True)


class StatedBracketSchema(Schema):
    threshold = DecimalText(required=True, pattern=MONEY_IN, explained="an amount")
    rate = DecimalText(required=True, pattern=RATE, explained="a rate from 0 to 1")


def _section(name: str, **declared: fields.Field) -> fields.Field:
    return fields.Nested(Schema.from_dict(declared, name=f"Policy{name}Schema"), required=True)


def _tiers(name: str, values: Make, stated: bool) -> fields.Field:
    """A table by tier: as stated, an object naming some of the four tiers; as recorded, a map."""
    if stated:
        table = Schema.from_dict({t: values() for t in TIERS}, name=f"Policy{name}Schema")
        return fields.Nested(table, required=True)
    return fields.Dict(keys=fields.String(validate=validate.OneOf(TIERS)), values=values(),
                       required=True)


def _terms_schema(recorded: bool) -> type[Schema]:
    """R4: the terms of a policy version, as policy/default.toml writes one version: decimals as
    text, whole numbers as integers. `recorded`: as the log holds them, where a version published
    before a term of domain.policy.ADDED_TERMS existed lacks it."""
    stated = not recorded
    name = "Recorded" if recorded else ""
    months = limits.MAX_POLICY_MONTHS

    def whole(minimum: int, maximum: int | None = None, *, added: bool = False) -> fields.Field:
        check = validate.Range(min=minimum, max=maximum) if stated else None
        return fields.Integer(strict=True, required=stated or not added, validate=check)

    def decimal(pattern: str, explained: str, *, added: bool = False) -> fields.Field:
        if recorded:
            return DecimalText(required=not added)
        return DecimalText(required=True, pattern=pattern, explained=explained)

    def rate() -> fields.Field:
        return decimal(RATE, "a rate from 0 to 1")

    def amount() -> fields.Field:
        return decimal(MONEY_IN, "an amount with at most two decimals")

    def bound(*, added: bool = False) -> fields.Field:
        return decimal(POSITIVE_MONEY_IN, "an amount above 0 with at most two decimals",
                       added=added)

    if stated:
        accounts: fields.Field = _section(
            "Accounts", **{role: DecimalText(required=True, pattern=ACCOUNT,
                                             explained="an account code (digits, . or -)")
                           for role in DEFAULT_ACCOUNTS})
    else:
        accounts = fields.Dict(keys=fields.String(), values=fields.String(), required=False)
    brackets = StatedBracketSchema if stated else BracketSchema
    return Schema.from_dict(
        {
            "seats": _tiers(f"{name}Seats", lambda: fields.Integer(
                strict=True, validate=validate.Range(min=0) if stated else None), stated),
            "discounts": _tiers(f"{name}Discounts", rate, stated),
            "onboarding": _section(
                f"{name}Onboarding", forecast_months=whole(0, limits.MAX_FORECAST_MONTHS),
                max_monthly_amount=bound(added=True),
                max_term_months=whole(1, limits.MAX_TERM_MONTHS, added=True)),
            "credit": _section(f"{name}Credit",
                               multiple=decimal(MULTIPLE, "a multiple from 0 to 100"),
                               overdue_days=whole(0, limits.MAX_POLICY_DAYS),
                               qualifying_months=whole(0, months), clean_months=whole(0, months)),
            "monthly_rebate": _tiers(f"{name}MonthlyRebate", rate, stated),
            "quarterly_rebate": _tiers(
                f"{name}QuarterlyRebate", lambda: fields.List(fields.Nested(brackets)), stated),
            "prices": fields.Nested(
                Schema.from_dict({"max_list_price": bound()}, name=f"Policy{name}PricesSchema"),
                required=stated),
            "spare_parts": _section(f"{name}SpareParts", rate=rate(),
                                    window_months=whole(1, months),
                                    max_draw_qty=whole(1, limits.MAX_QTY, added=True)),
            "performance": _section(f"{name}Performance", quota=amount(), bonus=amount(),
                                    probation_ratio=rate(), probation_months=whole(0, months),
                                    dismissal_months=whole(0, months)),
            "orders": _section(f"{name}OrderBounds", max_lines=whole(1, limits.MAX_ORDER_LINES),
                               max_qty=whole(1, limits.MAX_QTY), max_total=bound()),
            "accounts": accounts,
        },
        name=f"{name}PolicyTermsSchema",
    )


# The terms a new version states, every one (PUT /policy), and the terms of a recorded version
# (Policy.VersionPublished on Kafka, and the answers of /policy), which may predate some of them.
PolicyTermsSchema: type[Schema] = _terms_schema(recorded=False)
RecordedPolicyTermsSchema: type[Schema] = _terms_schema(recorded=True)
