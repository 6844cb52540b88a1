"""What every family's queries share: the policy book the log records (R4), the histories of tier
and owner, net-sales sums (O5), the settled months, and the small helpers over periods and rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.errors import RuleViolationError
from domain.policy import PolicyBook, version_from_terms
from domain.values import Month, Quarter, Week
from infra.sql import Db
from projections.records import from_cents, from_json
from projections.views import ChannelView

ZERO = Decimal("0.00")
EVERYTHING = 2**62  # the log position "as of" which everything is known


def day_or_none(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def bounds(period: Month | Quarter | Week) -> tuple[str, str]:
    """The period's first and last day, as the ISO text the tables hold."""
    return period.first_day.isoformat(), period.last_day.isoformat()


def months_of(period: Month | Quarter) -> list[Month]:
    return list(period.months) if isinstance(period, Quarter) else [period]


@dataclass(frozen=True)
class History:
    """A dealer's dated values (tier or owner) as known up to a log position."""

    entries: tuple[tuple[str, int, str], ...]  # (effective_on, position, value), in date order

    def on(self, day: date) -> str:
        text = day.isoformat()
        value = self.entries[0][2]
        for effective_on, _, v in self.entries:
            if effective_on <= text:
                value = v
        return value


@dataclass(frozen=True)
class Sums:
    """Net sales (O5) over a period, with the deliveries and returns that make them."""

    net: Decimal = ZERO
    delivered: Decimal = ZERO
    returned: Decimal = ZERO  # a positive figure: the value returned


def dealer_rows(db: Db) -> dict[str, dict[str, Any]]:
    return {r["dealer_id"]: dict(r) for r in db.all("SELECT * FROM @dealers")}


def _histories(db: Db, table: str, column: str, as_of: int | None) -> dict[str, History]:
    rows = db.all(
        f"SELECT dealer_id, effective_on, position, {column} AS value FROM @{table} "
        "WHERE position <= ? ORDER BY dealer_id, effective_on, position",
        (as_of if as_of is not None else EVERYTHING,),
    )
    grouped: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for r in rows:
        grouped[r["dealer_id"]].append((r["effective_on"], int(r["position"]), r["value"]))
    return {k: History(tuple(v)) for k, v in grouped.items()}


def tiers(db: Db, as_of: int | None = None) -> dict[str, History]:
    """R4: each dealer's tier on a date."""
    return _histories(db, "dealer_tiers", "tier", as_of)


def owners(db: Db, as_of: int | None = None) -> dict[str, History]:
    """D8: each dealer's salesperson on a date."""
    return _histories(db, "dealer_owners", "salesperson", as_of)


def sums(db: Db, key: str, first: str, last: str, as_of: int | None = None, **equal: str) -> dict[str, Sums]:
    """Net sales (O5) by `key` (dealer_id, region or salesperson) over [first, last]."""
    clauses = ["business_date >= ?", "business_date <= ?", "position <= ?"]
    params: list[Any] = [first, last, as_of if as_of is not None else EVERYTHING]
    for column, value in equal.items():
        clauses.append(f"{column} = ?")
        params.append(value)
    rows = db.all(
        f"SELECT {key} AS k, SUM(value_cents) AS net, "
        "SUM(CASE WHEN kind = 'delivery' THEN value_cents ELSE 0 END) AS delivered "
        f"FROM @sales WHERE {' AND '.join(clauses)} GROUP BY {key}",
        params,
    )
    result = {}
    for r in rows:
        net, delivered = from_cents(r["net"]), from_cents(r["delivered"])
        result[r["k"]] = Sums(net, delivered, delivered - net)
    return result


def settled(db: Db) -> set[str]:
    """Closed months whose close the process manager has carried out (entries posted)."""
    return {
        r["month"]
        for r in db.all(
            "SELECT c.month FROM @closes c JOIN @followups f ON f.month = c.month "
            "WHERE f.done_position IS NOT NULL"
        )
    }


def agreement(dealer: dict[str, Any], as_of: int | None) -> tuple[date | None, date | None]:
    """The dealer's formal agreement date and termination date, each as known at `as_of`."""
    signed_at, terminated_at = dealer["agreement_position"], dealer["terminated_position"]
    signed = None
    if signed_at is not None and (as_of is None or signed_at <= as_of):
        signed = day_or_none(dealer["agreement_signed_on"])
    terminated = None
    if terminated_at is not None and (as_of is None or terminated_at <= as_of):
        terminated = day_or_none(dealer["terminated_on"])
    return signed, terminated


class QueryBase:
    """Queries over one view. `policy` gives the rates for accruals and the K4 numbers."""

    def __init__(self, view: ChannelView, policy: PolicyBook | None = None) -> None:
        """`policy` replaces the versions the log records: a what-if (`audit simulate`) only."""
        self.view = view
        self.override = policy
        self._cached: tuple[tuple[Any, ...], PolicyBook] | None = None

    def _book(self, db: Db) -> PolicyBook:
        """R4: the policy versions the log records (as projected), or the what-if's."""
        if self.override is not None:
            return self.override
        rows = db.all(
            "SELECT effective_from, version_id, terms, position FROM @policy_versions ORDER BY effective_from"
        )
        key = tuple((r["effective_from"], r["version_id"], int(r["position"])) for r in rows)
        cached = self._cached
        if cached is not None and cached[0] == key:
            return cached[1]
        if not rows:
            raise RuleViolationError("R4", "no policy version is recorded in the log (yet)")
        book = PolicyBook(
            [
                version_from_terms(
                    r["version_id"], date.fromisoformat(r["effective_from"]), from_json(r["terms"])
                )
                for r in rows
            ]
        )
        self._cached = (key, book)
        return book

    def _rows(self, table: str, order_by: str, **equal: Any) -> list[Any]:
        """The rows of `table` whose columns hold the values given (an empty or None value leaves
        its column free), in `order_by` order."""
        clauses, params = ["1 = 1"], []
        for column, value in equal.items():
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        with self.view.reading() as db:
            return db.all(f"SELECT * FROM @{table} WHERE {' AND '.join(clauses)} ORDER BY {order_by}", params)

    def policy(self) -> PolicyBook:
        """The policy versions the figures use, read in a transaction of its own."""
        with self.view.reading() as db:
            return self._book(db)
