"""Read-only queries over the read model (the read side contract in docs/architecture.md). Every
method returns plain dicts and lists: money as Decimal, dates as date."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain import allocation, performance
from domain.errors import NotFoundError, RuleViolationError
from domain.ids import NATIONAL_POOL
from domain.policy import PolicyBook, version_from_terms
from domain.rebates import Correction, RebateFacts, RebateLine, distance, earns_rebates, rebate, slip_lines
from domain.values import Month, Quarter, Tier, Week, money, parse_period
from projections.records import from_cents, from_json
from projections.sentences import rebate_why
from projections.sql import Db
from projections.views import ChannelView

ZERO = Decimal("0.00")
KIND_ORDER = {"monthly": 0, "quarterly": 1, "correction": 2}
SOLD = ("confirmed", "shipped", "delivered", "paid")  # orders that count (not cancelled/rejected)


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _bounds(period: Month | Quarter | Week) -> tuple[str, str]:
    return period.first_day.isoformat(), period.last_day.isoformat()


def _months(period: Month | Quarter) -> list[Month]:
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
    net: Decimal = ZERO
    delivered: Decimal = ZERO
    returned: Decimal = ZERO  # a positive figure: the value returned


class Reports:
    """Queries over one view. `policy` gives the rates for accruals and the K4 numbers."""

    def __init__(self, view: ChannelView, policy: PolicyBook | None = None):
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

    def policy(self) -> PolicyBook:
        """The policy versions the figures use, read in a transaction of its own."""
        with self.view.reading() as db:
            return self._book(db)

    # --- shared readers ----------------------------------------------------------------------

    @staticmethod
    def _dealer_rows(db: Db) -> dict[str, dict[str, Any]]:
        return {r["dealer_id"]: dict(r) for r in db.all("SELECT * FROM @dealers")}

    @staticmethod
    def _histories(db: Db, table: str, column: str, as_of: int | None) -> dict[str, History]:
        rows = db.all(
            f"SELECT dealer_id, effective_on, position, {column} AS value FROM @{table} "
            "WHERE position <= ? ORDER BY dealer_id, effective_on, position",
            (as_of if as_of is not None else 2**62,),
        )
        grouped: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for r in rows:
            grouped[r["dealer_id"]].append((r["effective_on"], int(r["position"]), r["value"]))
        return {k: History(tuple(v)) for k, v in grouped.items()}

    def _tiers(self, db: Db, as_of: int | None = None) -> dict[str, History]:
        return self._histories(db, "dealer_tiers", "tier", as_of)

    def _owners(self, db: Db, as_of: int | None = None) -> dict[str, History]:
        return self._histories(db, "dealer_owners", "salesperson", as_of)

    @staticmethod
    def _sums(
        db: Db, key: str, first: str, last: str, as_of: int | None = None, **where: str
    ) -> dict[str, Sums]:
        """Net sales (O5) by `key` (dealer_id, region or salesperson) over [first, last]."""
        clauses = ["business_date >= ?", "business_date <= ?", "position <= ?"]
        params: list[Any] = [first, last, as_of if as_of is not None else 2**62]
        for column, value in where.items():
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

    @staticmethod
    def _settled(db: Db) -> set[str]:
        """Closed months whose close the process manager has carried out (entries posted)."""
        return {
            r["month"]
            for r in db.all(
                "SELECT c.month FROM @closes c JOIN @followups f ON f.month = c.month "
                "WHERE f.done_position IS NOT NULL"
            )
        }

    @staticmethod
    def _closed(db: Db) -> dict[str, dict[str, Any]]:
        return {r["month"]: dict(r) for r in db.all("SELECT * FROM @closes")}

    @staticmethod
    def _agreement(dealer: dict[str, Any], as_of: int | None) -> tuple[date | None, date | None]:
        """The dealer's formal agreement date and termination date, each as known at `as_of`."""
        signed_at, terminated_at = dealer["agreement_position"], dealer["terminated_position"]
        signed = None
        if signed_at is not None and (as_of is None or signed_at <= as_of):
            signed = _d(dealer["agreement_signed_on"])
        terminated = None
        if terminated_at is not None and (as_of is None or terminated_at <= as_of):
            terminated = _d(dealer["terminated_on"])
        return signed, terminated

    # --- rebates (R1–R7) -----------------------------------------------------------------------

    def _figures(
        self, db: Db, period: Month | Quarter, as_of: int | None = None
    ) -> list[tuple[str, RebateLine]]:
        """What each eligible dealer earns for the period, from the log up to `as_of`: the facts
        are gathered here, the domain decides the money (R1–R4)."""
        book = self._book(db)
        dealers = self._dealer_rows(db)
        tiers = self._tiers(db, as_of)
        first, last = _bounds(period)
        net = self._sums(db, "dealer_id", first, last, as_of)
        result: list[tuple[str, RebateLine]] = []
        for dealer_id, dealer in dealers.items():
            if dealer_id not in tiers:
                continue
            tier = Tier(tiers[dealer_id].on(period.last_day))
            if not earns_rebates(period, tier, *self._agreement(dealer, as_of)):
                continue
            agreed = Decimal(dealer["monthly_amount"]) if dealer["monthly_amount"] else None
            facts = RebateFacts(period, net.get(dealer_id, Sums()).net, tier, agreed)
            result.append((dealer_id, rebate(facts, book)))
        return result

    @staticmethod
    def _entry_rows(db: Db, periods: list[str], dealer_id: str | None) -> list[dict[str, Any]]:
        marks = ", ".join("?" for _ in periods)
        params: list[Any] = list(periods)
        extra = ""
        if dealer_id is not None:
            extra = " AND dealer_id = ?"
            params.append(dealer_id)
        return [
            dict(r)
            for r in db.all(
                f"SELECT * FROM @rebate_entries WHERE period IN ({marks}){extra} ORDER BY position",
                params,
            )
        ]

    @staticmethod
    def _posted(row: dict[str, Any], name: str) -> dict[str, Any]:
        detail = from_json(row["detail"]) or {}
        basis = None if row["basis_cents"] is None else from_cents(row["basis_cents"])
        upper = None if detail.get("next_threshold") is None else Decimal(detail["next_threshold"])
        entry = {
            "dealer_id": row["dealer_id"],
            "dealer_name": name,
            "period": row["period"],
            "kind": row["kind"],
            "status": "posted",
            "basis": basis,
            "rate": None if row["rate"] is None else Decimal(row["rate"]),
            "amount": from_cents(row["amount_cents"]),
            "policy_version": row["policy_version"],
            "tier": row["tier"],
            "threshold": None if row["threshold"] is None else money(Decimal(row["threshold"])),
            "slip_id": row["slip_id"],
            "reached": detail.get("reached"),
            "rule": detail.get("rule", "R6" if row["kind"] == "correction" else ""),
            # Slips issued before lines carried the next step hold none (None here).
            "next_threshold": upper,
            "next_rate": None if detail.get("next_rate") is None else Decimal(detail["next_rate"]),
            "distance": None if basis is None else distance(basis, upper),
            "dispute": detail.get("dispute"),
            "note": detail.get("note"),
        }
        if row["kind"] == "correction" and entry["note"] is None:
            entry["note"] = detail.get("why", "")  # a correction line of an older slip
        entry["why"] = rebate_why(entry)
        return entry

    @staticmethod
    def _accrued(dealer_id: str, name: str, line: RebateLine) -> dict[str, Any]:
        entry = {
            "dealer_id": dealer_id,
            "dealer_name": name,
            "period": str(line.period),
            "kind": line.kind.value,
            "status": "accrued",
            "basis": line.basis,
            "rate": line.rate,
            "amount": line.amount,
            "policy_version": line.policy_version,
            "tier": line.tier.value,
            "threshold": None if line.threshold is None else money(line.threshold),
            "slip_id": None,
            "reached": line.reached,
            "rule": line.rule,
            "next_threshold": line.next_threshold,
            "next_rate": line.next_rate,
            "distance": line.distance,
            "dispute": None,
            "note": None,
        }
        entry["why"] = rebate_why(entry)
        return entry

    def _ledger(self, db: Db, period: Month | Quarter, dealer_id: str | None) -> list[dict[str, Any]]:
        """R5: posted entries of settled periods; accruals (what would be earned if the period
        closed now) for the others; corrections (R6) of the period's months."""
        names = {k: v["name"] for k, v in self._dealer_rows(db).items()}
        settled = self._settled(db)
        periods: list[Month | Quarter] = [*_months(period)]
        if isinstance(period, Quarter):
            periods.append(period)
        rows = self._entry_rows(db, [str(p) for p in periods], dealer_id)
        posted = {(r["dealer_id"], r["period"], r["kind"]): r for r in rows if r["kind"] != "correction"}
        result = [self._posted(r, names.get(r["dealer_id"], "")) for r in rows]
        for p in periods:
            last_month = _months(p)[-1]
            if str(last_month) in settled:
                continue  # the slips hold the period's final figures
            for d_id, line in self._figures(db, p):
                if dealer_id is not None and d_id != dealer_id:
                    continue
                if (d_id, str(line.period), line.kind.value) not in posted:
                    result.append(self._accrued(d_id, names.get(d_id, ""), line))
        result.sort(key=lambda e: (e["dealer_name"], e["dealer_id"], KIND_ORDER[e["kind"]], e["period"]))
        return result

    def rebates(self, period: str, dealer_id: str | None = None) -> list[dict[str, Any]]:
        """The rebate ledger of a month, or of a quarter with its months (DESIGN)."""
        parsed = parse_period(period)
        with self.view.reading() as db:
            return self._ledger(db, parsed, dealer_id)

    def rebate_explanation(self, dealer_id: str, period: str) -> dict[str, Any]:
        """R7: the entries of the dealer's period with the threshold, rate and policy version, and
        the deliveries and returns (with their order lines) that make the basis."""
        parsed = parse_period(period)
        with self.view.reading() as db:
            dealer = db.one("SELECT * FROM @dealers WHERE dealer_id = ?", (dealer_id,))
            if dealer is None:
                raise NotFoundError(f"no dealer {dealer_id}")
            entries = self._ledger(db, parsed, dealer_id)
            facts = self._facts(db, dealer_id, *_bounds(parsed))
        net = sum((f["value"] for f in facts), ZERO)
        for entry in entries:
            if entry["basis"] is not None:
                first, last = _bounds(parse_period(entry["period"]))
                entry["facts"] = [
                    f["position"] for f in facts if first <= f["business_date"].isoformat() <= last
                ]
        return {
            "dealer_id": dealer_id,
            "dealer_name": dealer["name"],
            "region": dealer["region"],
            "period": str(parsed),
            "agreed_monthly_amount": Decimal(dealer["monthly_amount"]) if dealer["monthly_amount"] else None,
            "entries": entries,
            "net_sales": net,
            "deliveries": [f for f in facts if f["kind"] == "delivery"],
            "returns": [f for f in facts if f["kind"] == "return"],
        }

    @staticmethod
    def _facts(db: Db, dealer_id: str, first: str, last: str) -> list[dict[str, Any]]:
        rows = db.all(
            "SELECT s.*, o.client_ref FROM @sales s JOIN @orders o ON o.order_id = s.order_id "
            "WHERE s.dealer_id = ? AND s.business_date >= ? AND s.business_date <= ? "
            "ORDER BY s.business_date, s.position",
            (dealer_id, first, last),
        )
        order_ids = sorted({r["order_id"] for r in rows if r["kind"] == "delivery"})
        lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if order_ids:
            marks = ", ".join("?" for _ in order_ids)
            for line in db.all(
                f"SELECT * FROM @order_lines WHERE order_id IN ({marks}) ORDER BY order_id, line_no",
                order_ids,
            ):
                lines[line["order_id"]].append(
                    {
                        "sku": line["sku"],
                        "name": line["name"],
                        "qty": int(line["qty"]),
                        "unit_price": Decimal(line["unit_price"]),
                        "amount": from_cents(line["amount_cents"]),
                    }
                )
        facts = []
        for r in rows:
            if r["kind"] == "delivery":
                fact_lines = lines[r["order_id"]]
            else:
                fact_lines = [
                    {
                        "sku": x["sku"],
                        "qty": int(x["qty"]),
                        "unit_price": Decimal(x["unit_price"]),
                        "amount": -Decimal(x["amount"]),
                    }
                    for x in from_json(r["lines"]) or []
                ]
            facts.append(
                {
                    "position": int(r["position"]),
                    "kind": r["kind"],
                    "order_id": r["order_id"],
                    "client_ref": r["client_ref"],
                    "order_date": _d(r["order_date"]),
                    "business_date": _d(r["business_date"]),
                    "value": from_cents(r["value_cents"]),
                    "lines": fact_lines,
                }
            )
        return facts

    # --- the close's figures (used by the process manager) ----------------------------------------

    def closing_slips(self, month: Month, as_of: int) -> list[dict[str, Any]]:
        """R5: per dealer, the lines of the slip the close of `month` issues: the month's monthly
        entry, the quarter's quarterly entry when the month ends a quarter, and the corrections
        (R6) booked in the month — all as known at the close's log position."""
        with self.view.reading() as db:
            figures = self._figures(db, month, as_of)
            if month == month.quarter.months[-1]:
                figures += self._figures(db, month.quarter, as_of)
            corrections = [
                r
                for r in self._entry_rows(db, [str(month)], None)
                if r["kind"] == "correction" and r["position"] <= as_of
            ]
        entries: dict[str, list[RebateLine | Correction]] = defaultdict(list)
        for dealer_id, line in figures:
            entries[dealer_id].append(line)
        for r in corrections:
            detail = from_json(r["detail"]) or {}
            entries[r["dealer_id"]].append(
                Correction(
                    period=month,
                    amount=from_cents(r["amount_cents"]),
                    policy_version=r["policy_version"],
                    slip_id=r["slip_id"],
                    dispute=int(detail["dispute"]),
                    note=str(detail.get("note", "")),
                )
            )
        lines = {dealer_id: slip_lines(found) for dealer_id, found in entries.items()}
        return [{"dealer_id": k, "lines": v} for k, v in sorted(lines.items())]

    def _shares(self, db: Db, month: Month, as_of: int | None) -> list[allocation.PoolShare]:
        """S2: the regions' net sales over the window and the repair centres open at the close, as
        known at `as_of`; the domain divides the money."""
        book = self._book(db)
        window = allocation.window(month, book)
        sales = self._sums(db, "region", window[0].first_day.isoformat(), month.last_day.isoformat(), as_of)
        last, cap = month.last_day.isoformat(), as_of if as_of is not None else 2**62
        centres: dict[str, str] = {}
        for pool in db.all(
            "SELECT * FROM @pools WHERE pool <> ? AND opened_position <= ? AND opened_on <= ? "
            "ORDER BY opened_position",
            (NATIONAL_POOL, cap, last),
        ):
            closed = pool["closed_position"] is not None and pool["closed_position"] <= cap
            if not (closed and pool["closed_on"] <= last):
                centres[pool["region"]] = pool["pool"]
        return allocation.allocate(month, {region: s.net for region, s in sales.items()}, centres, book)

    def spare_allocation(self, month: Month, as_of: int) -> list[dict[str, Any]]:
        """S2: the allocations the close of `month` makes, as known at its log position."""
        with self.view.reading() as db:
            shares = self._shares(db, month, as_of)
        return [
            {
                "pool": s.pool,
                "region": s.region,
                "basis": s.basis,
                "amount": s.amount,
                "policy_version": s.policy_version,
            }
            for s in shares
        ]

    # --- slips (R5, R6) ---------------------------------------------------------------------------

    @staticmethod
    def _slip(row: Any, name: str) -> dict[str, Any]:
        lines = from_json(row["lines"]) or []
        disputes = from_json(row["disputes"]) or []
        verdict: dict[int, str] = {}
        for d in disputes:
            resolution = d["resolution"]
            state = "disputed" if resolution is None else ("accepted" if resolution["accept"] else "rejected")
            for item in d["lines"]:
                verdict[item["line"]] = state
        for line in lines:
            for key in ("basis", "rate", "amount", "threshold", "next_threshold", "next_rate"):
                if line.get(key) is not None:
                    line[key] = Decimal(line[key])
            if line["kind"] == "correction" and "note" not in line:
                line["note"] = line.get("why", "")  # older slips kept finance's note as `why`
            line["why"] = rebate_why(line)  # rendered from the figures, old slips and new alike
            default = "confirmed" if row["status"] == "confirmed" else "issued"
            line["status"] = verdict.get(line["line"], default)
        for d in disputes:
            d["disputed_on"] = _d(d["disputed_on"])
            if d["resolution"] is not None:
                res = d["resolution"]
                res["resolved_on"] = _d(res["resolved_on"])
                if res["amount"] is not None:
                    res["amount"] = Decimal(res["amount"])
            d["status"] = (
                "open"
                if d["resolution"] is None
                else ("accepted" if d["resolution"]["accept"] else "rejected")
            )
        return {
            "slip_id": row["slip_id"],
            "dealer_id": row["dealer_id"],
            "dealer_name": name,
            "period": row["period"],
            "status": row["status"],
            "issued_on": _d(row["issued_on"]),
            "confirmed_on": _d(row["confirmed_on"]),
            "total": sum((line["amount"] for line in lines), ZERO),
            "lines": lines,
            "disputes": disputes,
        }

    def slips(self, dealer_id: str | None = None, period: str | None = None) -> list[dict[str, Any]]:
        clauses, params = ["1 = 1"], []
        if dealer_id is not None:
            clauses.append("s.dealer_id = ?")
            params.append(dealer_id)
        if period is not None:
            months = [str(m) for m in _months(parse_period(period))]
            clauses.append(f"s.period IN ({', '.join('?' for _ in months)})")
            params.extend(months)
        with self.view.reading() as db:
            rows = db.all(
                "SELECT s.*, d.name FROM @slips s LEFT JOIN @dealers d ON d.dealer_id = s.dealer_id "
                f"WHERE {' AND '.join(clauses)} ORDER BY s.period, d.name, s.dealer_id",
                params,
            )
        return [self._slip(r, r["name"] or "") for r in rows]

    def slip(self, slip_id: str) -> dict[str, Any]:
        with self.view.reading() as db:
            row = db.one(
                "SELECT s.*, d.name FROM @slips s LEFT JOIN @dealers d ON d.dealer_id = s.dealer_id "
                "WHERE s.slip_id = ?",
                (str(slip_id),),
            )
        if row is None:
            raise NotFoundError(f"no rebate slip {slip_id}")
        return self._slip(row, row["name"] or "")

    # --- spare parts (S2, S3) ---------------------------------------------------------------------

    def spare_budgets(self, month: str) -> list[dict[str, Any]]:
        """Each pool's month: its allocation (S2; an accrual while the month is open), the draws
        dated in the month (S3), the balance carried in and the balance at the month's end."""
        parsed = Month.parse(month)
        first, last = _bounds(parsed)
        with self.view.reading() as db:
            settled = str(parsed) in self._settled(db)
            pools = {r["pool"]: dict(r) for r in db.all("SELECT * FROM @pools WHERE opened_on <= ?", (last,))}
            allocations = [
                dict(r) for r in db.all("SELECT * FROM @allocations WHERE month <= ?", (str(parsed),))
            ]
            draws = [dict(r) for r in db.all("SELECT * FROM @draws WHERE drawn_on <= ?", (last,))]
            names = {k: v["name"] for k, v in self._dealer_rows(db).items()}
            shares = {s.pool: s for s in self._shares(db, parsed, None)}
        this_month = {a["pool"]: a for a in allocations if a["month"] == str(parsed)}
        keys = set(pools) | set(this_month) | (set() if settled else set(shares))
        rows = []
        for pool in sorted(keys, key=lambda p: (p == NATIONAL_POOL, p)):
            before = sum(
                (
                    from_cents(a["amount_cents"])
                    for a in allocations
                    if a["pool"] == pool and a["month"] < str(parsed)
                ),
                ZERO,
            )
            before -= sum(
                (Decimal(d["value"]) for d in draws if d["pool"] == pool and d["drawn_on"] < first), ZERO
            )
            drawn = sum(
                (Decimal(d["value"]) for d in draws if d["pool"] == pool and d["drawn_on"] >= first), ZERO
            )
            share = shares.get(pool)
            if pool in this_month:
                a = this_month[pool]
                allocated, basis = from_cents(a["amount_cents"]), Decimal(a["basis"])
                status, version = "allocated", a["policy_version"]
            elif share is not None and not settled:
                allocated, basis, status, version = share.amount, share.basis, "accrued", share.policy_version
            else:
                allocated, basis, status, version = ZERO, ZERO, "none", None
            region = pools[pool]["region"] if pool in pools else (share.region if share else pool)
            figures = allocation.PoolMonth(carried_over=before, allocated=allocated, drawn=drawn)
            rows.append(
                {
                    "pool": pool,
                    "pool_name": "national pool" if pool == NATIONAL_POOL else names.get(pool, pool),
                    "region": region,
                    "month": str(parsed),
                    "regions": list(share.regions) if share else [],
                    "basis": basis,
                    "allocated": figures.allocated,
                    "drawn": figures.drawn,
                    "carried_over": figures.carried_over,
                    "balance": figures.balance,
                    "status": status,
                    "policy_version": version,
                }
            )
        return rows

    # --- dealers and orders ------------------------------------------------------------------------

    def dealers(self, region: str | None = None, tier: str | None = None) -> list[dict[str, Any]]:
        clauses, params = ["1 = 1"], []
        if region:
            clauses.append("region = ?")
            params.append(region)
        if tier:
            clauses.append("tier = ?")
            params.append(Tier.parse(tier).value)
        with self.view.reading() as db:
            rows = db.all(
                f"SELECT * FROM @dealers WHERE {' AND '.join(clauses)} ORDER BY name, dealer_id", params
            )
        return [
            {
                "dealer_id": r["dealer_id"],
                "name": r["name"],
                "region": r["region"],
                "tier": r["tier"],
                "salesperson": r["salesperson"],
                "status": r["status"],
                "registered_on": _d(r["registered_on"]),
                "monthly_amount": Decimal(r["monthly_amount"]) if r["monthly_amount"] else None,
                "start_month": r["start_month"],
                "repair_centre": r["repair_centre_since"] is not None,
                "terminated_on": _d(r["terminated_on"]),
            }
            for r in rows
        ]

    def orders(self, dealer_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        clauses, params = ["1 = 1"], []
        if dealer_id:
            clauses.append("dealer_id = ?")
            params.append(dealer_id)
        if status:
            clauses.append("status = ?")
            params.append(status)
        with self.view.reading() as db:
            rows = db.all(
                f"SELECT * FROM @orders WHERE {' AND '.join(clauses)} ORDER BY order_date, position", params
            )
        return [
            {
                "order_id": r["order_id"],
                "dealer_id": r["dealer_id"],
                "client_ref": r["client_ref"],
                "order_date": _d(r["order_date"]),
                "status": r["status"],
                "payment": r["payment"],
                "total": from_cents(r["total_cents"]),
                "needs_approval": bool(r["needs_approval"]),
                "salesperson": r["salesperson"],
                "region": r["region"],
                "paid": from_cents(r["paid_cents"]),
                "returned": from_cents(r["returned_cents"]),
            }
            for r in rows
        ]

    # --- performance tables (K1–K5, D5) -------------------------------------------------------------

    def dealer_ranking(self, period: str, region: str | None = None) -> list[dict[str, Any]]:
        """K3: dealers by net sales in a month or quarter, overall (with each one's rank in its
        region) or within one region. Industry customers (END) are not dealers and not ranked."""
        parsed = parse_period(period)
        first, last = _bounds(parsed)
        with self.view.reading() as db:
            dealers = self._dealer_rows(db)
            tiers, owners = self._tiers(db), self._owners(db)
            sums = self._sums(db, "dealer_id", first, last)
        rows = []
        for dealer_id, d in dealers.items():
            tier = tiers[dealer_id].on(parsed.last_day)
            active = d["registered_on"] <= last and not (d["terminated_on"] and d["terminated_on"] < first)
            if tier == Tier.END.value or not (active or dealer_id in sums):
                continue
            s = sums.get(dealer_id, Sums())
            rows.append(
                {
                    "dealer_id": dealer_id,
                    "name": d["name"],
                    "region": d["region"],
                    "tier": tier,
                    "salesperson": owners[dealer_id].on(parsed.last_day),
                    "net_sales": s.net,
                    "deliveries": s.delivered,
                    "returns": s.returned,
                }
            )
        rows.sort(key=lambda r: (-r["net_sales"], r["name"], r["dealer_id"]))
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_region[r["region"]].append(r)
        for members in by_region.values():
            for position, r in performance.rank(members, lambda r: r["net_sales"]):
                r["region_rank"] = position
        if region:
            rows = by_region.get(region, [])
            return [{"rank": r["region_rank"], **r} for r in rows]
        return [{"rank": position, **r} for position, r in performance.rank(rows, lambda r: r["net_sales"])]

    def _salespeople(self, db: Db, last_day: date) -> tuple[dict[str, str], dict[str, Month]]:
        """Each salesperson's region (K2, from the dealers they own at `last_day`) and first quota
        month (K4: the month the first of their dealers registered with them, or passed to them)."""
        dealers = self._dealer_rows(db)
        owners = self._owners(db)
        regions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        first: dict[str, Month] = {}
        for dealer_id, history in owners.items():
            for effective_on, _, salesperson in history.entries:
                month = Month.of(date.fromisoformat(effective_on))
                if salesperson not in first or month < first[salesperson]:
                    first[salesperson] = month
            if dealers[dealer_id]["registered_on"] <= last_day.isoformat():
                regions[history.on(last_day)][dealers[dealer_id]["region"]] += 1
        home = {sp: performance.home_region(counts) for sp, counts in regions.items()}
        return home, first

    @staticmethod
    def _monthly_net(db: Db, last: Month) -> dict[str, dict[Month, Decimal]]:
        """Net sales (O5) by salesperson (D8) and month, every month up to `last`: a shortfall
        carries until it is made up (K4), so the whole history counts."""
        rows = db.all(
            "SELECT salesperson, SUBSTR(business_date, 1, 7) AS month, SUM(value_cents) AS net "
            "FROM @sales WHERE business_date <= ? GROUP BY salesperson, SUBSTR(business_date, 1, 7)",
            (last.last_day.isoformat(),),
        )
        result: dict[str, dict[Month, Decimal]] = defaultdict(dict)
        for r in rows:
            result[r["salesperson"]][Month.parse(r["month"])] = from_cents(r["net"])
        return result

    @staticmethod
    def _daily_net(db: Db, month: Month) -> dict[str, list[tuple[date, Decimal]]]:
        """Each salesperson's net sales by business day of the month, in date order (K2)."""
        rows = db.all(
            "SELECT salesperson, business_date, SUM(value_cents) AS net FROM @sales "
            "WHERE business_date >= ? AND business_date <= ? "
            "GROUP BY salesperson, business_date ORDER BY business_date, salesperson",
            _bounds(month),
        )
        result: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
        for r in rows:
            result[r["salesperson"]].append((date.fromisoformat(r["business_date"]), from_cents(r["net"])))
        return result

    def salesperson_ranking(self, period: str) -> list[dict[str, Any]]:
        """K2/K4: salespeople by net sales, with quota, target (quota plus the unmet target carried
        in), achievement over the last three quota months, the flags decided in the period and,
        for a month, the first salesperson of each region to reach the month's target marked for
        the bonus. The facts are gathered here; `domain.performance` decides."""
        parsed = parse_period(period)
        months = _months(parsed)
        last = months[-1]
        with self.view.reading() as db:
            book = self._book(db)
            home, first = self._salespeople(db, last.last_day)
            net = self._monthly_net(db, last)
            period_sales = self._sums(db, "salesperson", *_bounds(parsed))
            daily = self._daily_net(db, last) if isinstance(parsed, Month) else {}
        bonus = money(book.in_force(last.first_day).bonus)
        rows: list[dict[str, Any]] = []
        crossings: list[performance.Crossing] = []
        for sp in set(home) | set(period_sales):
            standing = performance.standing(months, first.get(sp, months[0]), net.get(sp, {}), book)
            region = home.get(sp, "")
            on_quota = on_target = None
            if isinstance(parsed, Month):
                days = daily.get(sp, [])
                on_quota = performance.reached_on(days, standing.quota)
                on_target = performance.crossing(sp, region, days, standing.target)
                if on_target is not None:
                    crossings.append(on_target)
            rows.append(
                {
                    "salesperson": sp,
                    "region": region,
                    "net_sales": standing.net_sales,
                    "quota": standing.quota,
                    "carried": standing.carried,
                    "target": standing.target,
                    "reached": standing.reached,
                    "achievement": standing.achievement,
                    "flags": [flag.value for flag in standing.flags],
                    "bonus": ZERO,
                    "bonus_candidate": False,
                    "reached_quota_on": on_quota[0] if on_quota else None,
                    "reached_target_on": on_target.on if on_target else None,
                }
            )
        winners = set(performance.bonus_winners(crossings).values())
        for row in rows:
            if row["salesperson"] in winners:
                row["bonus"] = bonus
                row["bonus_candidate"] = True
        rows.sort(key=lambda r: (-r["net_sales"], r["salesperson"]))
        return [{"rank": position, **r} for position, r in performance.rank(rows, lambda r: r["net_sales"])]

    def weekly(self, salesperson: str, week: str) -> dict[str, Any]:
        """K1: the salesperson's week — net sales (per dealer), channel progress and the forecasts
        of the dealers they own."""
        parsed = Week.parse(week)
        first, last = _bounds(parsed)
        month = Month.of(parsed.last_day)
        book = self.policy()
        horizon = book.in_force(parsed.first_day).forecast_months
        months = [str(month.plus(k)) for k in range(horizon)]
        with self.view.reading() as db:
            dealers = self._dealer_rows(db)
            owners = self._owners(db)
            sums = self._sums(db, "dealer_id", first, last, salesperson=salesperson)
            month_sums = self._sums(
                db, "salesperson", month.first_day.isoformat(), last, salesperson=salesperson
            )
            progress = db.all(
                "SELECT * FROM @progress WHERE salesperson = ? AND on_date >= ? AND on_date <= ? "
                "ORDER BY on_date, position",
                (salesperson, first, last),
            )
            forecasts = db.all(
                f"SELECT * FROM @forecasts WHERE month IN ({', '.join('?' for _ in months)}) "
                "ORDER BY month, dealer_id",
                months,
            )
        own = {k for k, h in owners.items() if h.on(parsed.last_day) == salesperson}
        steps: dict[str, list[dict[str, Any]]] = {
            "registration": [],
            "draft_agreement": [],
            "formal_agreement": [],
            "first_order": [],
        }
        for p in progress:
            steps[p["kind"]].append(
                {"dealer_id": p["dealer_id"], "name": dealers[p["dealer_id"]]["name"], "on": _d(p["on_date"])}
            )
        by_dealer = sorted(
            (
                {
                    "dealer_id": k,
                    "name": dealers[k]["name"],
                    "net_sales": s.net,
                    "deliveries": s.delivered,
                    "returns": s.returned,
                }
                for k, s in sums.items()
            ),
            key=lambda r: (-r["net_sales"], r["name"]),
        )
        total = sum((s.net for s in sums.values()), ZERO)
        return {
            "salesperson": salesperson,
            "week": str(parsed),
            "from": parsed.first_day,
            "to": parsed.last_day,
            "net_sales": total,
            "deliveries": sum((s.delivered for s in sums.values()), ZERO),
            "returns": sum((s.returned for s in sums.values()), ZERO),
            "by_dealer": by_dealer,
            "month_to_date": month_sums.get(salesperson, Sums()).net,
            "quota": performance.quota(month, book),
            "progress": {k: {"count": len(v), "dealers": v} for k, v in steps.items()},
            "forecasts": [
                {
                    "dealer_id": f["dealer_id"],
                    "name": dealers[f["dealer_id"]]["name"],
                    "month": f["month"],
                    "amount": Decimal(f["amount"]),
                }
                for f in forecasts
                if f["dealer_id"] in own
            ],
            "dealers": sorted(dealers[k]["name"] for k in own),
        }

    def d5_flags(self, period: str) -> list[dict[str, Any]]:
        """D5 (not enforced, flagged): regions that have a tier-A dealer at the period's end but no
        tier-AA dealer under agreement that could step up."""
        parsed = parse_period(period)
        last = parsed.last_day.isoformat()
        with self.view.reading() as db:
            dealers = self._dealer_rows(db)
            tiers = self._tiers(db)
        a: dict[str, list[str]] = defaultdict(list)
        aa: dict[str, list[str]] = defaultdict(list)
        for dealer_id, d in dealers.items():
            signed = d["agreement_signed_on"] is not None and d["agreement_signed_on"] <= last
            gone = d["terminated_on"] is not None and d["terminated_on"] <= last
            if not signed or gone:
                continue
            tier = tiers[dealer_id].on(parsed.last_day)
            if tier == Tier.A.value:
                a[d["region"]].append(d["name"])
            elif tier == Tier.AA.value:
                aa[d["region"]].append(d["name"])
        return [
            {
                "region": region,
                "a_dealers": sorted(a[region]),
                "aa_dealers": sorted(aa[region]),
                "flagged": bool(a[region]) and not aa[region],
            }
            for region in sorted(set(a) | set(aa))
        ]

    def statistics(self, period: str) -> dict[str, Any]:
        """K5: per dealer, salesperson and region — orders, net sales, deliveries, returns, rebates
        earned (posted or accrued) and, for salespeople, achievement; with D5 flags per region."""
        parsed = parse_period(period)
        first, last = _bounds(parsed)
        with self.view.reading() as db:
            dealers = self._dealer_rows(db)
            tiers = self._tiers(db)
            by_dealer = self._sums(db, "dealer_id", first, last)
            by_region = self._sums(db, "region", first, last)
            orders = db.all(
                f"SELECT dealer_id, salesperson, region FROM @orders WHERE order_date >= ? AND "
                f"order_date <= ? AND status IN ({', '.join('?' for _ in SOLD)})",
                (first, last, *SOLD),
            )
            ledger = self._ledger(db, parsed, None)
        rebates: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for entry in ledger:
            rebates[entry["dealer_id"]] += entry["amount"]
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for o in orders:
            counts[("dealer", o["dealer_id"])] += 1
            counts[("salesperson", o["salesperson"])] += 1
            counts[("region", o["region"])] += 1
        dealer_rows = []
        for dealer_id, d in sorted(dealers.items(), key=lambda kv: (kv[1]["name"], kv[0])):
            s = by_dealer.get(dealer_id, Sums())
            n = counts.get(("dealer", dealer_id), 0)
            if not n and dealer_id not in by_dealer and not rebates.get(dealer_id):
                continue
            dealer_rows.append(
                {
                    "dealer_id": dealer_id,
                    "name": d["name"],
                    "region": d["region"],
                    "tier": tiers[dealer_id].on(parsed.last_day),
                    "orders": n,
                    "net_sales": s.net,
                    "deliveries": s.delivered,
                    "returns": s.returned,
                    "rebates": rebates.get(dealer_id, ZERO),
                }
            )
        people = {r["salesperson"]: r for r in self.salesperson_ranking(str(parsed))}
        sp_rebates: dict[str, Decimal] = defaultdict(lambda: ZERO)
        region_rebates: dict[str, Decimal] = defaultdict(lambda: ZERO)
        region_dealers: dict[str, int] = defaultdict(int)
        for d in dealer_rows:
            region_rebates[d["region"]] += d["rebates"]
            region_dealers[d["region"]] += 1
        with self.view.reading() as db:
            owners = self._owners(db)
            sp_sums = self._sums(db, "salesperson", first, last)
        for dealer_id, amount in rebates.items():
            sp_rebates[owners[dealer_id].on(parsed.last_day)] += amount
        salespeople = [
            {
                "salesperson": sp,
                "region": r["region"],
                "orders": counts.get(("salesperson", sp), 0),
                "net_sales": r["net_sales"],
                "deliveries": sp_sums.get(sp, Sums()).delivered,
                "returns": sp_sums.get(sp, Sums()).returned,
                "rebates": sp_rebates.get(sp, ZERO),
                "quota": r["quota"],
                "achievement": r["achievement"],
                "flags": r["flags"],
            }
            for sp, r in sorted(people.items())
        ]
        flags = {f["region"]: f for f in self.d5_flags(str(parsed))}
        regions = []
        for region in sorted(set(by_region) | set(flags) | set(region_dealers)):
            s = by_region.get(region, Sums())
            regions.append(
                {
                    "region": region,
                    "dealers": region_dealers.get(region, 0),
                    "orders": counts.get(("region", region), 0),
                    "net_sales": s.net,
                    "deliveries": s.delivered,
                    "returns": s.returned,
                    "rebates": region_rebates.get(region, ZERO),
                    "lacks_aa_successor": flags.get(region, {}).get("flagged", False),
                }
            )
        totals = {
            key: sum((r[key] for r in regions), ZERO)
            for key in ("net_sales", "deliveries", "returns", "rebates")
        }
        totals["orders"] = sum(r["orders"] for r in regions)
        return {
            "period": str(parsed),
            "dealers": dealer_rows,
            "salespeople": salespeople,
            "regions": regions,
            "totals": totals,
        }
