"""Policy: the (default) numbers of RULES.md as effective-dated versions (R4). Code reads them from
here, never from literals. The versions live in the log, as events of the `Policy` aggregate; a
policy file is only the input of a publication or of a what-if (`audit simulate`)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import limits
from domain.errors import InvalidInputError, RuleViolationError
from domain.ids import POLICY_ID
from domain.policy_terms import DEFAULT_ACCOUNTS, ONE, Terms, item
from domain.values import Tier


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
    # O1: the other bounds of what a command may record.
    max_list_price: Decimal  # P1: a list price above it is refused (a typing mistake)
    max_monthly_amount: Decimal  # D2: forecast and agreed monthly amounts (C3: credit limit)
    max_term_months: int  # D2: the formal agreement's term
    max_draw_qty: int  # S3: units of one spare-parts draw
    # The ledger accounts of the accrual journal (domain/accruals.py): role -> account code.
    accounts: Mapping[str, str] = field(default_factory=dict)

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
            "onboarding": {
                "forecast_months": self.forecast_months,
                "max_monthly_amount": str(self.max_monthly_amount),
                "max_term_months": self.max_term_months,
            },
            "prices": {"max_list_price": str(self.max_list_price)},
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
                "max_draw_qty": self.max_draw_qty,
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
            "accounts": dict(self.accounts),
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
        # O1: a new version states every term, each within what the stores and dates can hold,
        # whoever built it (a file, a request, a test).
        version_from_terms(version.id, version.effective_from, terms, recorded=False)
        known = self.find(version.id)
        if known is not None:
            # Compared as read back, so a version recorded before a term existed equals the same
            # version published again with that term at its recorded default.
            was = version_from_terms(version.id, known["effective_from"], known["terms"])
            if known["effective_from"] == version.effective_from and was.terms() == terms:
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


# --- a version from its terms ------------------------------------------------------------------

# Terms added after versions were first recorded in logs, with the value a version recorded
# before the term existed reads (the default policy's value when the term was introduced). Only
# a recorded version gets them: a new version (a file, a request) must state every term.
ADDED_TERMS: dict[str, Any] = {
    "onboarding.max_monthly_amount": "100000000.00",
    "onboarding.max_term_months": 120,
    "prices.max_list_price": "10000000.00",
    "spare_parts.max_draw_qty": 100000,
    **{f"accounts.{role}": code for role, code in DEFAULT_ACCOUNTS.items()},
}


def _brackets(t: Terms) -> dict[Tier, tuple[Bracket, ...]]:
    """R3: each tier's quarterly brackets, thresholds rising strictly."""
    quarterly: dict[Tier, tuple[Bracket, ...]] = {}
    for tier_name, brackets in t.section("quarterly_rebate").items():
        tier = Tier.parse(tier_name, "quarterly_rebate")
        where = f"quarterly_rebate.{tier_name}"
        if not isinstance(brackets, list) or not all(isinstance(b, Mapping) for b in brackets):
            raise InvalidInputError(f"policy: {where} must be a list of brackets", field=where)
        parsed = tuple(
            Bracket(
                t.decimal(f"{where}.threshold", value=item(b, "threshold", where)),
                t.decimal(f"{where}.rate", ONE, value=item(b, "rate", where)),
            )
            for b in brackets
        )
        thresholds = [b.threshold for b in parsed]
        if thresholds != sorted(set(thresholds)):
            # R3's steps, one after the other: a rule on the table, not on any one field.
            raise RuleViolationError("R3", f"policy: {where} thresholds must rise strictly",
                                     field=where)
        quarterly[tier] = parsed
    return quarterly


def version_from_terms(
    version_id: str, effective_from: date, terms: Mapping[str, Any], *, recorded: bool = True
) -> PolicyVersion:
    """A version from its id, date and terms (the sections of a policy file's version).
    `recorded` (the default: the terms come from the log) reads an older version's missing terms
    from ADDED_TERMS; `recorded=False` for a new version, which must state every term within
    the ceilings of `domain.limits`."""
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise InvalidInputError("policy: effective_from must be a date", field="effective_from")
    if not str(version_id).strip():
        raise InvalidInputError("policy: id must not be empty", field="id")
    t = Terms(terms, recorded, ADDED_TERMS)
    months = limits.MAX_POLICY_MONTHS
    return PolicyVersion(
        id=str(version_id).strip(),
        effective_from=effective_from,
        seats={Tier.parse(k, "seats"): t.whole(f"seats.{k}") for k in t.section("seats")},
        discounts=t.rates("discounts"),
        forecast_months=t.whole("onboarding.forecast_months", 0, limits.MAX_FORECAST_MONTHS),
        credit_multiple=t.decimal("credit.multiple", Decimal(100)),
        overdue_days=t.whole("credit.overdue_days", 0, limits.MAX_POLICY_DAYS),
        qualifying_months=t.whole("credit.qualifying_months", 0, months),
        clean_months=t.whole("credit.clean_months", 0, months),
        monthly_rebate=t.rates("monthly_rebate"),
        quarterly_rebate=_brackets(t),
        spare_parts_rate=t.decimal("spare_parts.rate", ONE),
        spare_parts_window_months=t.whole("spare_parts.window_months", 1, months),
        quota=t.decimal("performance.quota"),
        bonus=t.decimal("performance.bonus"),
        probation_ratio=t.decimal("performance.probation_ratio", ONE),
        probation_months=t.whole("performance.probation_months", 0, months),
        dismissal_months=t.whole("performance.dismissal_months", 0, months),
        orders=OrderBounds(
            max_lines=t.whole("orders.max_lines", 1, limits.MAX_ORDER_LINES),
            max_qty=t.whole("orders.max_qty", 1, limits.MAX_QTY),
            max_total=t.money("orders.max_total"),
        ),
        max_list_price=t.money("prices.max_list_price"),
        max_monthly_amount=t.money("onboarding.max_monthly_amount"),
        max_term_months=t.whole("onboarding.max_term_months", 1, limits.MAX_TERM_MONTHS),
        max_draw_qty=t.whole("spare_parts.max_draw_qty", 1, limits.MAX_QTY),
        accounts={role: t.code(f"accounts.{role}") for role in DEFAULT_ACCOUNTS},
    )


def parse_version(raw: Mapping[str, Any], index: int = 0) -> PolicyVersion:
    """One `[[versions]]` entry of a policy file: `id`, `effective_from` and every term."""
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"policy: versions[{index}] must be a table", field="versions")
    reader = Terms(raw, recorded=False)
    effective_from = reader.get("effective_from")
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise InvalidInputError(
            f"policy: versions[{index}].effective_from must be a date", field="effective_from"
        )
    return version_from_terms(str(reader.get("id")), effective_from, raw, recorded=False)
