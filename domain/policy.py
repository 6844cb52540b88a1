"""Policy: the (default) numbers of RULES.md as effective-dated versions. Code reads them from here,
never from literals; the file format is parsed by `PolicyBook.from_mapping`."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from domain.errors import InvalidInputError
from domain.values import Tier, to_decimal


@dataclass(frozen=True)
class Bracket:
    """Half-open bracket [threshold, next threshold) of a quarterly rebate table (R3)."""

    threshold: Decimal
    rate: Decimal


@dataclass(frozen=True)
class PolicyVersion:
    id: str
    effective_from: date
    seats: Mapping[Tier, int]
    discounts: Mapping[Tier, Decimal]
    forecast_months: int
    credit_multiple: Decimal
    overdue_days: int
    qualifying_months: int
    clean_months: int
    monthly_rebate: Mapping[Tier, Decimal]
    quarterly_rebate: Mapping[Tier, tuple[Bracket, ...]]
    spare_parts_rate: Decimal
    spare_parts_window_months: int
    quota: Decimal
    bonus: Decimal
    probation_ratio: Decimal
    probation_months: int
    dismissal_months: int
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def discount(self, tier: Tier) -> Decimal:
        return self.discounts.get(tier, Decimal(0))

    def seat_limit(self, tier: Tier) -> int | None:
        return self.seats.get(tier)

    def monthly_rate(self, tier: Tier) -> Decimal:
        return self.monthly_rebate.get(tier, Decimal(0))

    def quarterly_bracket(self, tier: Tier, net_sales: Decimal) -> Bracket | None:
        """The highest bracket whose threshold the figure reaches (inclusive lower bound)."""
        reached = None
        for bracket in self.quarterly_rebate.get(tier, ()):
            if net_sales >= bracket.threshold:
                reached = bracket
        return reached


class PolicyBook:
    """All policy versions; the one in force on a date is the latest effective on or before it."""

    def __init__(self, versions: list[PolicyVersion]):
        if not versions:
            raise InvalidInputError("policy: at least one version is needed", field="versions")
        self.versions = sorted(versions, key=lambda v: v.effective_from)
        starts = [v.effective_from for v in self.versions]
        if len(set(starts)) != len(starts):
            raise InvalidInputError("policy: two versions start on the same day", field="versions")
        ids = [v.id for v in self.versions]
        if len(set(ids)) != len(ids):
            raise InvalidInputError("policy: version ids must be unique", field="versions")
        self._starts = starts

    def in_force(self, on: date) -> PolicyVersion:
        index = bisect_right(self._starts, on) - 1
        if index < 0:
            # Before the first version the first one applies: history needs a rule book too.
            return self.versions[0]
        return self.versions[index]

    def by_id(self, version_id: str) -> PolicyVersion:
        for version in self.versions:
            if version.id == version_id:
                return version
        raise InvalidInputError(f"policy: no version {version_id!r}", field="policy_version")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PolicyBook:
        raw_versions = data.get("versions")
        if not isinstance(raw_versions, list):
            raise InvalidInputError("policy: expected a list [[versions]]", field="versions")
        return cls([_parse_version(raw, i) for i, raw in enumerate(raw_versions)])


def _get(raw: Mapping[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise InvalidInputError(f"policy: missing {path}", field=path)
        node = node[part]
    return node


def _tier_map(raw: Mapping[str, Any], path: str) -> dict[Tier, Decimal]:
    node = _get(raw, path)
    return {Tier.parse(k, path): to_decimal(v, f"{path}.{k}") for k, v in node.items()}


def _int(raw: Mapping[str, Any], path: str) -> int:
    value = _get(raw, path)
    if not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"policy: {path} must be a whole number ≥ 0", field=path)
    return value


def _parse_version(raw: Mapping[str, Any], index: int) -> PolicyVersion:
    effective_from = _get(raw, "effective_from")
    if not isinstance(effective_from, date):
        raise InvalidInputError(
            f"policy: versions[{index}].effective_from must be a date", field="effective_from"
        )
    quarterly: dict[Tier, tuple[Bracket, ...]] = {}
    for tier_name, brackets in _get(raw, "quarterly_rebate").items():
        tier = Tier.parse(tier_name, "quarterly_rebate")
        parsed = tuple(
            Bracket(
                to_decimal(b["threshold"], f"quarterly_rebate.{tier_name}.threshold"),
                to_decimal(b["rate"], f"quarterly_rebate.{tier_name}.rate"),
            )
            for b in brackets
        )
        thresholds = [b.threshold for b in parsed]
        if thresholds != sorted(set(thresholds)):
            raise InvalidInputError(
                f"policy: quarterly_rebate.{tier_name} thresholds must rise strictly",
                field=f"quarterly_rebate.{tier_name}",
            )
        quarterly[tier] = parsed
    return PolicyVersion(
        id=str(_get(raw, "id")),
        effective_from=effective_from,
        seats={Tier.parse(k, "seats"): _int(raw, f"seats.{k}") for k in _get(raw, "seats")},
        discounts=_tier_map(raw, "discounts"),
        forecast_months=_int(raw, "onboarding.forecast_months"),
        credit_multiple=to_decimal(_get(raw, "credit.multiple"), "credit.multiple"),
        overdue_days=_int(raw, "credit.overdue_days"),
        qualifying_months=_int(raw, "credit.qualifying_months"),
        clean_months=_int(raw, "credit.clean_months"),
        monthly_rebate=_tier_map(raw, "monthly_rebate"),
        quarterly_rebate=quarterly,
        spare_parts_rate=to_decimal(_get(raw, "spare_parts.rate"), "spare_parts.rate"),
        spare_parts_window_months=_int(raw, "spare_parts.window_months"),
        quota=to_decimal(_get(raw, "performance.quota"), "performance.quota"),
        bonus=to_decimal(_get(raw, "performance.bonus"), "performance.bonus"),
        probation_ratio=to_decimal(
            _get(raw, "performance.probation_ratio"), "performance.probation_ratio"
        ),
        probation_months=_int(raw, "performance.probation_months"),
        dismissal_months=_int(raw, "performance.dismissal_months"),
        source=dict(raw),
    )
