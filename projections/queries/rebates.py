"""The rebates family's queries: the ledger (R2 monthly, R3 quarterly, R4 tier and policy, R5 posted
or accrued, R6 corrections), its explanation (R7), a close's slip lines; `domain.rebates` decides."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from domain.errors import NotFoundError
from domain.rebates import Correction, RebateFacts, RebateLine, earns_rebates, rebate, slip_lines
from domain.values import Month, Quarter, Tier, parse_period
from infra.sql import Db
from projections.queries import common
from projections.queries.common import ZERO, QueryBase, Sums, bounds, day_or_none, months_of
from projections.queries.entries import accrued_entry, posted_entry
from projections.records import from_cents, from_json

KIND_ORDER = {"monthly": 0, "quarterly": 1, "correction": 2}


def entry_rows(db: Db, periods: list[str], dealer_id: str | None) -> list[dict[str, Any]]:
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


def sale_facts(db: Db, dealer_id: str, first: str, last: str) -> list[dict[str, Any]]:
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
                "order_date": day_or_none(r["order_date"]),
                "business_date": day_or_none(r["business_date"]),
                "value": from_cents(r["value_cents"]),
                "lines": fact_lines,
            }
        )
    return facts


class RebateQueries(QueryBase):
    """The rebate ledger (R2, R3, R4, R5, R6) and its explanation (R7) over the view; the close's slip
    lines (R5) as known at its log position."""

    def _figures(
        self, db: Db, period: Month | Quarter, as_of: int | None = None, dealer_id: str | None = None
    ) -> list[tuple[str, RebateLine]]:
        """What each eligible dealer earns for the period, from the log up to `as_of`: the facts
        are gathered here, the domain decides the money (R1, R2, R3, R4)."""
        book = self._book(db)
        dealers = common.dealer_rows(db)
        tiers = common.tiers(db, as_of)
        first, last = bounds(period)
        only = {"dealer_id": dealer_id} if dealer_id is not None else {}
        net = common.sums(db, "dealer_id", first, last, as_of, **only)  # one dealer's, when asked
        result: list[tuple[str, RebateLine]] = []
        for d_id, dealer in dealers.items():
            if d_id not in tiers or (dealer_id is not None and d_id != dealer_id):
                continue
            tier = Tier(tiers[d_id].on(period.last_day))
            if not earns_rebates(period, tier, *common.agreement(dealer, as_of)):
                continue
            agreed = Decimal(dealer["monthly_amount"]) if dealer["monthly_amount"] else None
            facts = RebateFacts(period, net.get(d_id, Sums()).net, tier, agreed)
            result.append((d_id, rebate(facts, book)))
        return result

    def _ledger(self, db: Db, period: Month | Quarter, dealer_id: str | None) -> list[dict[str, Any]]:
        """R5: posted entries of settled periods; accruals (what would be earned if the period
        closed now) for the others; corrections (R6) of the period's months."""
        names = {k: v["name"] for k, v in common.dealer_rows(db).items()}
        settled = common.settled(db)
        periods: list[Month | Quarter] = [*months_of(period)]
        if isinstance(period, Quarter):
            periods.append(period)
        rows = entry_rows(db, [str(p) for p in periods], dealer_id)
        posted = {(r["dealer_id"], r["period"], r["kind"]): r for r in rows if r["kind"] != "correction"}
        result = [posted_entry(r, names.get(r["dealer_id"], "")) for r in rows]
        for p in periods:
            last_month = months_of(p)[-1]
            if str(last_month) in settled:
                continue  # the slips hold the period's final figures
            for d_id, line in self._figures(db, p, dealer_id=dealer_id):
                if (d_id, str(line.period), line.kind.value) not in posted:
                    result.append(accrued_entry(d_id, names.get(d_id, ""), line))
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
            facts = sale_facts(db, dealer_id, *bounds(parsed))
        net = sum((f["value"] for f in facts), ZERO)
        for entry in entries:
            if entry["basis"] is not None:
                first, last = bounds(parse_period(entry["period"]))
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
                for r in entry_rows(db, [str(month)], None)
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
