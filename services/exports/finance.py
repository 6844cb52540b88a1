"""The seed's tables as finance prints them, registered as exports (`tables.register`): 返点确认单
one sheet per dealer, 销售业绩统计表 by dealer and by region, 业务人员销售业绩统计表, and
授权营销商的季度返点表 (brackets, each dealer's standing). Each is built over its report's JSON
answer (projections/queries/finance.py), as every export is."""

from __future__ import annotations

import re
from typing import Any

from services.exports.tables import Table, register

FORM = ["slip_id", "dealer_id", "dealer_name", "region", "month", "issued_on", "status", "answer",
        "answered_on", "total"]
FORM_LINE = ["slip_id", "dealer_id", "dealer_name", "month", "line", "kind", "period", "tier",
             "basis", "threshold", "rate", "amount", "answer", "reason", "resolution",
             "resolved_on", "correction", "note"]
PERF_DEALER = ["dealer_id", "name", "region", "tier", "salesperson", "orders", "net_sales",
               "deliveries", "returns", "rebates", "target", "achievement"]
PERF_REGION = ["region", "dealers", "orders", "net_sales", "deliveries", "returns", "rebates",
               "target", "achievement", "lacks_aa_successor"]
PERF_SALES = ["rank", "salesperson", "region", "dealers", "orders", "net_sales", "deliveries",
              "returns", "rebates", "quota", "carried", "target", "achievement", "bonus", "flags"]
BRACKET = ["tier", "bracket", "threshold", "upper", "rate"]
STANDING = ["dealer_id", "dealer_name", "region", "tier", "basis", "bracket", "threshold", "rate",
            "amount", "status", "next_threshold", "next_rate", "distance", "policy_version",
            "slip_id"]
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


def sheet_name(text: str) -> str:
    """A valid xlsx sheet name: at most 31 characters, none of []:*?/\\."""
    return _NOT_IN_SHEET_NAMES.sub("-", text)[:31]


def confirmation_tables(p: dict[str, Any]) -> list[Table]:
    """The period's slips, then one sheet per dealer: every line of its slips with the dealer's
    answer and finance's resolution, and each slip's total."""
    tables = [Table("confirmations", "返点确认单 Slips", FORM, p["forms"])]
    by_dealer: dict[str, list[dict[str, Any]]] = {}
    for form in p["forms"]:
        by_dealer.setdefault(form["dealer_id"], []).append(form)
    for number, (dealer_id, forms) in enumerate(by_dealer.items(), start=1):
        rows: list[dict[str, Any]] = []
        for form in forms:
            slip = {k: form[k] for k in ("slip_id", "dealer_id", "dealer_name", "month")}
            rows.extend({**slip, **line} for line in form["lines"])
            rows.append({**slip, "kind": "total", "amount": form["total"]})
        name = sheet_name(f"确认单 {number} {forms[0]['dealer_name']}")
        tables.append(Table(f"confirmation-{dealer_id}", name, FORM_LINE, rows))
    return tables


def sales_tables(p: dict[str, Any]) -> list[Table]:
    totals = {"region": "total", "dealers": len(p["dealers"]), **p["totals"]}
    return [
        Table("sales-performance", "销售业绩统计表 By dealer", PERF_DEALER, p["dealers"]),
        Table("sales-performance-regions", "销售业绩统计表 By region", PERF_REGION,
              [*p["regions"], totals]),
    ]


def salesperson_tables(p: dict[str, Any]) -> list[Table]:
    totals = {"salesperson": "total", **p["totals"]}
    return [Table("salesperson-performance", "业务人员销售业绩统计表", PERF_SALES,
                  [*p["salespeople"], totals])]


def quarterly_tables(p: dict[str, Any]) -> list[Table]:
    return [
        Table("quarterly-brackets", "季度返点表 Brackets", BRACKET, p["brackets"]),
        Table("quarterly-standing", "季度返点表 Dealers", STANDING, p["dealers"]),
    ]


register("confirmations", confirmation_tables)
register("sales-performance", sales_tables)
register("salesperson-performance", salesperson_tables)
register("quarterly-rebates", quarterly_tables)
