"""The slips family's queries (R5, R6): the rebate confirmation slips with their lines and
disputes, and the events behind the slips of a close (R7, sealed on the slips for the audit)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from domain.errors import NotFoundError
from domain.values import Month, parse_period
from projections.queries.common import ZERO, QueryBase, day_or_none, months_of
from projections.queries.entries import rebate_why
from projections.records import from_json


def slip_row(row: Any, name: str) -> dict[str, Any]:
    """A slip as shown: its lines with their sentence and status, its disputes with theirs."""
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
        d["disputed_on"] = day_or_none(d["disputed_on"])
        if d["resolution"] is not None:
            res = d["resolution"]
            res["resolved_on"] = day_or_none(res["resolved_on"])
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
        "issued_on": day_or_none(row["issued_on"]),
        "confirmed_on": day_or_none(row["confirmed_on"]),
        "total": sum((line["amount"] for line in lines), ZERO),
        "lines": lines,
        "disputes": disputes,
    }


class SlipQueries(QueryBase):
    """R5/R6 slips over the view."""

    def slips(self, dealer_id: str | None = None, period: str | None = None) -> list[dict[str, Any]]:
        """The slips of a dealer and of a month (a quarter: its months) when given."""
        clauses, params = ["1 = 1"], []
        if dealer_id is not None:
            clauses.append("s.dealer_id = ?")
            params.append(dealer_id)
        if period is not None:
            months = [str(m) for m in months_of(parse_period(period))]
            clauses.append(f"s.period IN ({', '.join('?' for _ in months)})")
            params.extend(months)
        with self.view.reading() as db:
            rows = db.all(
                "SELECT s.*, d.name FROM @slips s LEFT JOIN @dealers d ON d.dealer_id = s.dealer_id "
                f"WHERE {' AND '.join(clauses)} ORDER BY s.period, d.name, s.dealer_id",
                params,
            )
        return [slip_row(r, r["name"] or "") for r in rows]

    def slip(self, slip_id: str) -> dict[str, Any]:
        """One slip; NotFoundError if the read model holds none of that id."""
        with self.view.reading() as db:
            row = db.one(
                "SELECT s.*, d.name FROM @slips s LEFT JOIN @dealers d ON d.dealer_id = s.dealer_id "
                "WHERE s.slip_id = ?",
                (str(slip_id),),
            )
        if row is None:
            raise NotFoundError(f"no rebate slip {slip_id}")
        return slip_row(row, row["name"] or "")

    def slip_evidence(self, month: Month, as_of: int) -> dict[str, list[int]]:
        """R5/R7: the events behind each dealer's slip of the close of `month`, as log positions
        known at the close's position `as_of` — the deliveries and returns of the month (and of
        its quarter when it ends one) that make the basis (O5), the formal agreement that sets the
        agreed amount (R2), the tier changes that set the rate table (R4) and the dispute
        resolutions booked in the month as corrections (R6). `issue_slips` seals their digests on
        the slips for `channel audit verify`. A few statements for all dealers at once: the cost
        follows the month's events, not the number of dealers."""
        months = list(month.quarter.months) if month == month.quarter.months[-1] else [month]
        first, last = months[0].first_day.isoformat(), month.last_day.isoformat()
        with self.view.reading() as db:
            rows = db.all(
                "SELECT dealer_id, position FROM @sales WHERE business_date >= ? "
                "AND business_date <= ? AND position <= ?",
                (first, last, as_of),
            )
            rows += db.all("SELECT dealer_id, position FROM @dealer_tiers WHERE position <= ?", (as_of,))
            rows += db.all(
                "SELECT dealer_id, agreement_position AS position FROM @dealers "
                "WHERE agreement_position IS NOT NULL AND agreement_position <= ?",
                (as_of,),
            )
            rows += db.all(
                "SELECT dealer_id, position FROM @rebate_entries WHERE period = ? "
                "AND kind = 'correction' AND position <= ?",
                (str(month), as_of),
            )
        found: dict[str, set[int]] = defaultdict(set)
        for r in rows:
            found[str(r["dealer_id"])].add(int(r["position"]))
        return {dealer_id: sorted(positions) for dealer_id, positions in found.items()}
