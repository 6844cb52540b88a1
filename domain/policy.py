"""Policy: the (default) numbers of RULES.md as effective-dated versions (R4). Code reads them from
here, never from literals. The versions live in the log, as events of the `Policy` aggregate; a
policy file is only the input of a publication or of a what-if (`audit simulate`)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInputError, RuleViolationError
from domain.ids import POLICY_ID
from domain.values import Tier, to_decimal


@dataclass(frozen=True)
class Bracket:
    """Half-open bracket [threshold, next threshold) of a quarterly rebate table (R3)."""

    threshold: Decimal
    rate: Decimal


@dataclass(frozen=True)
class OrderBounds:
    """O1: what one order may hold, so that every figure it produces fits every store."""

    max_lines: int
    max_qty: int
    max_total: Decimal


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
    orders: OrderBounds

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

    def next_bracket(self, tier: Tier, net_sales: Decimal) -> Bracket | None:
        """The lowest bracket the figure has not reached yet (R3: the next step up)."""
        for bracket in self.quarterly_rebate.get(tier, ()):
            if net_sales < bracket.threshold:
                return bracket
        return None

    def terms(self) -> dict[str, Any]:
        """The version's numbers in the canonical form the log stores (decimals as strings, so
        that a version reads back exactly as it was published)."""

        def tiers(values: Mapping[Tier, Any]) -> dict[str, Any]:
            return {t.value: str(v) if isinstance(v, Decimal) else v for t, v in values.items()}

        return {
            "seats": tiers(self.seats),
            "discounts": tiers(self.discounts),
            "onboarding": {"forecast_months": self.forecast_months},
            "credit": {
                "multiple": str(self.credit_multiple),
                "overdue_days": self.overdue_days,
                "qualifying_months": self.qualifying_months,
                "clean_months": self.clean_months,
            },
            "monthly_rebate": tiers(self.monthly_rebate),
            "quarterly_rebate": {
                t.value: [{"threshold": str(b.threshold), "rate": str(b.rate)} for b in brackets]
                for t, brackets in self.quarterly_rebate.items()
            },
            "spare_parts": {
                "rate": str(self.spare_parts_rate),
                "window_months": self.spare_parts_window_months,
            },
            "performance": {
                "quota": str(self.quota),
                "bonus": str(self.bonus),
                "probation_ratio": str(self.probation_ratio),
                "probation_months": self.probation_months,
                "dismissal_months": self.dismissal_months,
            },
            "orders": {
                "max_lines": self.orders.max_lines,
                "max_qty": self.orders.max_qty,
                "max_total": str(self.orders.max_total),
            },
        }


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
        """A policy document: `[[versions]]`, each with `id`, `effective_from` and its terms."""
        raw_versions = data.get("versions")
        if not isinstance(raw_versions, list):
            raise InvalidInputError("policy: expected a list [[versions]]", field="versions")
        return cls([parse_version(raw, i) for i, raw in enumerate(raw_versions)])


# --- the policy in the log ---------------------------------------------------------------------


class Policy(Aggregate):
    """The register of published policy versions (R4), one per store: the log holds every
    version, so every figure is a function of the log alone, whichever process computes it."""

    @staticmethod
    def create_id() -> UUID:
        return POLICY_ID

    @event("Opened")
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    @property
    def book(self) -> PolicyBook:
        return PolicyBook(
            [
                version_from_terms(p["version_id"], p["effective_from"], p["terms"])
                for p in self.published
            ]
        )

    def find(self, version_id: str) -> dict[str, Any] | None:
        return next((p for p in self.published if p["version_id"] == version_id), None)

    def publish(self, version: PolicyVersion, note: str = "") -> bool:
        """Record a version (its `effective_from` must lie in an open month: the caller checks
        against the calendar). A version for a day that has one already supersedes it; the same
        version published again changes nothing (returns False)."""
        terms = version.terms()
        known = self.find(version.id)
        if known is not None:
            if known["effective_from"] == version.effective_from and known["terms"] == terms:
                return False
            raise RuleViolationError(
                "R4",
                f"policy version {version.id!r} is published already (effective "
                f"{known['effective_from']}); give the new version another id",
                field="id",
            )
        self._publish(
            number=len(self.published) + 1,
            version_id=version.id,
            effective_from=version.effective_from,
            terms=terms,
            note=note,
        )
        return True

    @event("VersionPublished")
    def _publish(
        self, number: int, version_id: str, effective_from: date, terms: dict[str, Any], note: str
    ) -> None:
        # A later publication for the same day supersedes the earlier one, as for prices (P1).
        self.published = [p for p in self.published if p["effective_from"] != effective_from]
        self.published.append(
            {"number": number, "version_id": version_id, "effective_from": effective_from,
             "terms": terms, "note": note}
        )
        self.published.sort(key=lambda p: p["effective_from"])


# --- parsing ----------------------------------------------------------------------------------


def _get(raw: Mapping[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise InvalidInputError(f"policy: missing {path}", field=path)
        node = node[part]
    return node


def _section(raw: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    node = _get(raw, path)
    if not isinstance(node, Mapping):
        raise InvalidInputError(f"policy: {path} must be a table", field=path)
    return node


def _tier(key: str, path: str) -> Tier:
    return Tier.parse(key, path)


def _tier_map(raw: Mapping[str, Any], path: str) -> dict[Tier, Decimal]:
    return {_tier(k, path): _decimal(v, f"{path}.{k}") for k, v in _section(raw, path).items()}


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidInputError(f"policy: {path} must be a decimal string", field=path)
    result = to_decimal(value, path)
    if result < 0:
        raise InvalidInputError(f"policy: {path} must not be negative", field=path)
    return result


def _int(raw: Mapping[str, Any], path: str, minimum: int = 0) -> int:
    value = _get(raw, path)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"policy: {path} must be a whole number ≥ {minimum}", field=path)
    return value


def _brackets(raw: Mapping[str, Any]) -> dict[Tier, tuple[Bracket, ...]]:
    quarterly: dict[Tier, tuple[Bracket, ...]] = {}
    for tier_name, brackets in _section(raw, "quarterly_rebate").items():
        tier = _tier(tier_name, "quarterly_rebate")
        where = f"quarterly_rebate.{tier_name}"
        if not isinstance(brackets, list) or not all(isinstance(b, Mapping) for b in brackets):
            raise InvalidInputError(f"policy: {where} must be a list of brackets", field=where)
        parsed = tuple(
            Bracket(_decimal(_get(b, "threshold"), f"{where}.threshold"),
                    _decimal(_get(b, "rate"), f"{where}.rate"))
            for b in brackets
        )
        thresholds = [b.threshold for b in parsed]
        if thresholds != sorted(set(thresholds)):
            raise InvalidInputError(f"policy: {where} thresholds must rise strictly", field=where)
        quarterly[tier] = parsed
    return quarterly


def version_from_terms(version_id: str, effective_from: date, terms: Mapping[str, Any]) -> PolicyVersion:
    """A version from its id, date and terms (the sections of a policy file's version)."""
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise InvalidInputError("policy: effective_from must be a date", field="effective_from")
    if not str(version_id).strip():
        raise InvalidInputError("policy: id must not be empty", field="id")
    return PolicyVersion(
        id=str(version_id).strip(),
        effective_from=effective_from,
        seats={_tier(k, "seats"): _int(terms, f"seats.{k}") for k in _section(terms, "seats")},
        discounts=_tier_map(terms, "discounts"),
        forecast_months=_int(terms, "onboarding.forecast_months"),
        credit_multiple=_decimal(_get(terms, "credit.multiple"), "credit.multiple"),
        overdue_days=_int(terms, "credit.overdue_days"),
        qualifying_months=_int(terms, "credit.qualifying_months"),
        clean_months=_int(terms, "credit.clean_months"),
        monthly_rebate=_tier_map(terms, "monthly_rebate"),
        quarterly_rebate=_brackets(terms),
        spare_parts_rate=_decimal(_get(terms, "spare_parts.rate"), "spare_parts.rate"),
        spare_parts_window_months=_int(terms, "spare_parts.window_months", 1),
        quota=_decimal(_get(terms, "performance.quota"), "performance.quota"),
        bonus=_decimal(_get(terms, "performance.bonus"), "performance.bonus"),
        probation_ratio=_decimal(_get(terms, "performance.probation_ratio"), "performance.probation_ratio"),
        probation_months=_int(terms, "performance.probation_months"),
        dismissal_months=_int(terms, "performance.dismissal_months"),
        orders=OrderBounds(
            max_lines=_int(terms, "orders.max_lines", 1),
            max_qty=_int(terms, "orders.max_qty", 1),
            max_total=_decimal(_get(terms, "orders.max_total"), "orders.max_total"),
        ),
    )


def parse_version(raw: Mapping[str, Any], index: int = 0) -> PolicyVersion:
    """One `[[versions]]` entry of a policy file: `id`, `effective_from` and the terms."""
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"policy: versions[{index}] must be a table", field="versions")
    effective_from = _get(raw, "effective_from")
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise InvalidInputError(
            f"policy: versions[{index}].effective_from must be a date", field="effective_from"
        )
    return version_from_terms(str(_get(raw, "id")), effective_from, raw)
