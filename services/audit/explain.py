"""`channel audit explain`: the events behind a figure (R7) — a dealer's rebate, a pool's spare-parts
month (S2/S3), a dealer ranking (K3) — from the live read model, or from one rebuilt from the log
as it stood at `--until`/`--as-of`. Every fact carries its log position, to be looked up."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.allocation import window as allocation_window
from domain.errors import NotFoundError
from domain.ids import NATIONAL_POOL
from domain.values import Month, parse_period
from projections.queries import Reports
from projections.records import from_cents
from services.audit import output
from services.audit.session import Audit

ZERO = Decimal("0.00")
FACT_COLUMNS = ["position", "kind", "business_date", "client_ref", "value", "lines"]


@dataclass(frozen=True)
class Explanation:
    data: dict[str, Any]
    text: str


@contextmanager
def reports_for(audit: Audit, args: argparse.Namespace) -> Iterator[tuple[Reports, dict[str, Any]]]:
    """Reports over the live read model, or over a scratch one rebuilt up to the cut; with a
    description of what the figures rest on."""
    head = audit.head
    if args.until is None and args.as_of is None:
        position = audit.live_position
        basis = {"source": "live read model", "position": position, "head": head}
        yield Reports(audit.live), basis
        return
    cut = audit.cut(args.until, args.as_of)
    with audit.rebuilt(cut.position, name=args.scratch, keep=args.keep,
                       batch_size=args.batch_size) as area:
        basis = {"source": f"the log rebuilt up to {cut.description}", "position": cut.position,
                 "head": head, "scratch": area.url if args.keep else None}
        yield Reports(area.view), basis


def _basis_line(basis: dict[str, Any]) -> str:
    if basis["source"] != "live read model":
        return f"from {basis['source']} (log head {basis['head']:,})"
    line = f"from the live read model at position {basis['position']:,} (log head {basis['head']:,})"
    if basis["position"] < basis["head"]:
        line += f"; the read model is {basis['head'] - basis['position']:,} events behind the log"
    return line


def _lines(fact: dict[str, Any]) -> str:
    return "; ".join(
        f"{x['sku']} ×{x['qty']} @ {x['unit_price']} = {x['amount']}" for x in fact.get("lines", [])
    )


def _facts_table(facts: list[dict[str, Any]]) -> str:
    rows = [{**f, "lines": _lines(f)} for f in facts]
    return output.table(rows, FACT_COLUMNS, headers={"business_date": "date",
                                                       "client_ref": "order"})


def explain(audit: Audit, args: argparse.Namespace) -> Explanation:
    with reports_for(audit, args) as (reports, basis):
        if args.figure == "rebate":
            return explain_rebate(reports, basis, args.dealer_id, args.period)
        if args.figure == "spare-budget":
            return explain_spare_budget(reports, basis, args.pool, args.month)
        return explain_ranking(reports, basis, args.period, args.region, args.dealer_id)


# --- rebates (R1–R7) -----------------------------------------------------------------------------------


def explain_rebate(reports: Reports, basis: dict[str, Any], dealer_id: str, period: str
                   ) -> Explanation:
    found = reports.rebate_explanation(dealer_id, period)
    facts = sorted(found["deliveries"] + found["returns"], key=lambda f: f["position"])
    data = {**found, "basis_of_figures": basis, "facts": facts}
    delivered = sum((f["value"] for f in found["deliveries"]), ZERO)
    returned = -sum((f["value"] for f in found["returns"]), ZERO)
    entries = [{**e, "facts": ", ".join(str(p) for p in e.get("facts", []))}
               for e in found["entries"]]
    text = [
        f"Rebate of {found['dealer_name']} ({dealer_id}), region {found['region']}, "
        f"{found['period']}; agreed monthly amount {output.text(found['agreed_monthly_amount'])}",
        _basis_line(basis),
        "",
        output.table(entries, ["kind", "period", "status", "tier", "basis", "threshold", "rate",
                               "amount", "policy_version", "rule", "facts"],
                     headers={"policy_version": "policy", "facts": "positions"}),
        "",
        *(f"{e['kind']} {e['period']}: {e['why']}" for e in found["entries"] if e.get("why")),
        "",
        f"Net sales {found['period']} (O5): {found['net_sales']} = deliveries {delivered} "
        f"− returns {returned}, by business date, at the confirmed prices",
        "",
        _facts_table(facts) if facts else "(no deliveries or returns in the period)",
    ]
    return Explanation(data, "\n".join(text))


# --- spare parts (S2, S3) ------------------------------------------------------------------------------


def explain_spare_budget(reports: Reports, basis: dict[str, Any], pool: str, month: str
                         ) -> Explanation:
    parsed = Month.parse(month)
    rows = reports.spare_budgets(str(parsed))
    row = next((r for r in rows if r["pool"] == pool), None)
    if row is None:
        raise NotFoundError(f"no spare-parts pool {pool} in {parsed}")
    book = reports.policy()
    window = allocation_window(parsed, book)
    first, last = window[0].first_day.isoformat(), parsed.last_day.isoformat()
    with reports.view.reading() as db:
        close = db.one("SELECT position FROM @closes WHERE month = ?", (str(parsed),))
        cap = int(close["position"]) if close is not None else 2**62
        allocation = db.one("SELECT position FROM @allocations WHERE pool = ? AND month = ?",
                            (pool, str(parsed)))
        regions = list(row["regions"]) or ([row["region"]] if pool != NATIONAL_POOL else [])
        marks = ", ".join("?" for _ in regions) or "NULL"
        sales = [dict(r) for r in db.all(
            "SELECT s.position, s.kind, s.business_date, s.region, s.dealer_id, s.value_cents, "
            "o.client_ref FROM @sales s JOIN @orders o ON o.order_id = s.order_id "
            f"WHERE s.region IN ({marks}) AND s.business_date >= ? AND s.business_date <= ? "
            "AND s.position <= ? ORDER BY s.business_date, s.position",
            (*regions, first, last, cap),
        )]
        draws = [dict(r) for r in db.all(
            "SELECT position, drawn_on, part, qty, value FROM @draws WHERE pool = ? "
            "AND drawn_on >= ? AND drawn_on <= ? ORDER BY drawn_on, position",
            (pool, parsed.first_day.isoformat(), last),
        )]
    facts = [{"position": int(s["position"]), "kind": s["kind"], "business_date": s["business_date"],
              "region": s["region"], "dealer_id": s["dealer_id"], "client_ref": s["client_ref"],
              "value": from_cents(s["value_cents"])} for s in sales]
    total = sum((f["value"] for f in facts), ZERO)
    policy = book.in_force(parsed.first_day)
    data = {
        **row,
        "basis_of_figures": basis,
        "rule": "S2",
        "rate": policy.spare_parts_rate,
        "window": [str(m) for m in window],
        "allocation_position": int(allocation["position"]) if allocation is not None else None,
        "close_position": cap if close is not None else None,
        "facts": facts,
        "facts_total": total,
        "draws": [{**d, "position": int(d["position"]), "value": Decimal(d["value"])}
                  for d in draws],
    }
    text = [
        f"Spare-parts budget of {row['pool_name']} ({pool}), {parsed}: {row['status']}",
        _basis_line(basis),
        "",
        output.table([row], ["basis", "allocated", "drawn", "carried_over", "balance",
                             "policy_version"]),
        "",
        f"S2: {policy.spare_parts_rate} × net sales of region(s) {', '.join(regions) or '-'} over "
        f"{', '.join(str(m) for m in window)}"
        + (f", as known at the close (position {cap})" if close is not None else " (accrual)")
        + (f"; allocation recorded at position {data['allocation_position']}"
           if allocation is not None else ""),
        f"the facts below sum to {total}"
        + ("" if total == row["basis"] else f" (the figure's basis is {row['basis']})"),
        "",
        output.table(facts, ["position", "kind", "business_date", "region", "client_ref", "value"],
                     headers={"business_date": "date", "client_ref": "order"})
        if facts else "(no deliveries or returns in the window)",
    ]
    if draws:
        text += ["", "S3 draws in the month:",
                 output.table(data["draws"], ["position", "drawn_on", "part", "qty", "value"])]
    return Explanation(data, "\n".join(text))


# --- ranking (K3) -------------------------------------------------------------------------------------


def explain_ranking(reports: Reports, basis: dict[str, Any], period: str, region: str | None,
                    dealer_id: str | None) -> Explanation:
    parsed = parse_period(period)
    rows = reports.dealer_ranking(str(parsed), region)
    if dealer_id is not None and not any(r["dealer_id"] == dealer_id for r in rows):
        raise NotFoundError(f"dealer {dealer_id} is not in the ranking of {parsed}")
    wanted = [r for r in rows if dealer_id is None or r["dealer_id"] == dealer_id]
    ids = [r["dealer_id"] for r in wanted]
    with reports.view.reading() as db:
        marks = ", ".join("?" for _ in ids) or "NULL"
        sales = db.all(
            "SELECT s.position, s.kind, s.business_date, s.dealer_id, s.value_cents, o.client_ref "
            "FROM @sales s JOIN @orders o ON o.order_id = s.order_id "
            f"WHERE s.dealer_id IN ({marks}) AND s.business_date >= ? AND s.business_date <= ? "
            "ORDER BY s.business_date, s.position",
            (*ids, parsed.first_day.isoformat(), parsed.last_day.isoformat()),
        )
    by_dealer: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for s in sales:
        by_dealer[s["dealer_id"]].append({
            "position": int(s["position"]), "kind": s["kind"], "business_date": s["business_date"],
            "client_ref": s["client_ref"], "value": from_cents(s["value_cents"]),
        })
    ranked = [{**r, "facts": by_dealer.get(r["dealer_id"], [])} for r in wanted]
    data = {"period": str(parsed), "region": region, "basis_of_figures": basis, "rows": ranked}
    scope = f"region {region}" if region else "all regions"
    text = [
        f"Dealer ranking (K3) of {parsed}, {scope}, by net sales (O5)",
        _basis_line(basis),
        "",
        output.table(rows, ["rank", "name", "region", "tier", "net_sales", "deliveries", "returns"]),
    ]
    for r in ranked:
        text += ["", f"#{r['rank']} {r['name']} ({r['dealer_id']}): net sales {r['net_sales']}"]
        text.append(output.table(r["facts"], ["position", "kind", "business_date", "client_ref",
                                              "value"],
                                 headers={"business_date": "date", "client_ref": "order"})
                    if r["facts"] else "  (no deliveries or returns in the period)")
    return Explanation(data, "\n".join(text))
