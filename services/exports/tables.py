"""Each report's answer (the JSON the API and `channel report --format json` give) as the tables an
export writes: which rows, which columns, ids first so that every row can be traced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.errors import InvalidInputError


@dataclass(frozen=True)
class Table:
    """One table of an export: `name` names its CSV file, `sheet` its xlsx sheet (≤ 31 chars)."""

    name: str
    sheet: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)


ENTRY = ["dealer_id", "dealer_name", "period", "kind", "status", "tier", "basis", "threshold",
         "rate", "amount", "policy_version", "slip_id"]
SLIP = ["slip_id", "dealer_id", "dealer_name", "period", "status", "issued_on", "confirmed_on",
        "total"]
SLIP_LINE = ["slip_id", "dealer_id", "dealer_name", "line", "kind", "period", "basis", "rate",
             "amount", "status"]
POOL = ["pool", "pool_name", "region", "month", "regions", "basis", "carried_over", "allocated",
        "drawn", "balance", "status", "policy_version"]
DEALER_RANK = ["rank", "dealer_id", "name", "region", "region_rank", "tier", "salesperson",
               "net_sales", "deliveries", "returns"]
D5 = ["region", "a_dealers", "aa_dealers", "flagged"]
SALES_RANK = ["rank", "salesperson", "region", "net_sales", "quota", "carried", "target",
              "achievement", "bonus", "bonus_candidate", "flags"]
FIGURES = ["orders", "net_sales", "deliveries", "returns", "rebates"]
STAT_DEALER = ["dealer_id", "name", "region", "tier", *FIGURES]
STAT_SALES = ["salesperson", "region", "orders", "net_sales", "deliveries", "returns", "rebates",
              "quota", "achievement", "flags"]
STAT_REGION = ["region", "dealers", *FIGURES, "lacks_aa_successor"]
WEEK = ["salesperson", "week", "from", "to", "net_sales", "deliveries", "returns",
        "month_to_date", "quota"]
WEEK_DEALER = ["dealer_id", "name", "net_sales", "deliveries", "returns"]
PROGRESS = ["step", "dealer_id", "name", "on"]
FORECAST = ["dealer_id", "name", "month", "amount"]
JOURNAL = ["date", "account", "debit", "credit", "dealer_id", "dealer_name", "reference"]
FACT = ["position", "kind", "order_id", "client_ref", "order_date", "business_date", "value"]


def _rebates(p: dict[str, Any]) -> list[Table]:
    return [Table("rebates", "返点 Rebates", ENTRY, p["entries"])]


def _slips(p: dict[str, Any]) -> list[Table]:
    slips = p.get("slips", [p])
    lines = [{"slip_id": s["slip_id"], "dealer_id": s["dealer_id"], "dealer_name": s["dealer_name"],
              **line} for s in slips for line in s["lines"]]
    return [Table("slips", "确认单 Slips", SLIP, slips),
            Table("slip-lines", "确认单行 Slip lines", SLIP_LINE, lines)]


def _budgets(p: dict[str, Any]) -> list[Table]:
    return [Table("spare-budgets", "备件预算 Spare budgets", POOL, p["pools"])]


def _dealers(p: dict[str, Any]) -> list[Table]:
    tables = [Table("dealers", "经销商排名 Dealer ranking", DEALER_RANK, p["rows"])]
    if "d5" in p:
        tables.append(Table("d5", "AA接替 D5 succession", D5, p["d5"]))
    return tables


def _salespeople(p: dict[str, Any]) -> list[Table]:
    return [Table("salespeople", "业务人员排名 Salespeople", SALES_RANK, p["rows"])]


def _weekly(p: dict[str, Any]) -> list[Table]:
    progress = [{"step": step, **d} for step, v in p["progress"].items() for d in v["dealers"]]
    return [
        Table("week", "周报 Week", WEEK, [p]),
        Table("week-dealers", "经销商 By dealer", WEEK_DEALER, p["by_dealer"]),
        Table("week-progress", "渠道进度 Progress", PROGRESS, progress),
        Table("week-forecasts", "预测 Forecasts", FORECAST, p["forecasts"]),
    ]


def _statistics(p: dict[str, Any]) -> list[Table]:
    totals = {"region": "total", "dealers": len(p["dealers"]), **p["totals"]}
    return [
        Table("stat-dealers", "经销商 By dealer", STAT_DEALER, p["dealers"]),
        Table("stat-salespeople", "业务人员 By salesperson", STAT_SALES, p["salespeople"]),
        Table("stat-regions", "区域 By region", STAT_REGION, [*p["regions"], totals]),
    ]


def _explanation(p: dict[str, Any]) -> list[Table]:
    return [
        Table("entries", "返点 Rebates", ENTRY, p["entries"]),
        Table("deliveries", "发货 Deliveries", FACT, p["deliveries"]),
        Table("returns", "退货 Returns", FACT, p["returns"]),
    ]


def _accruals(p: dict[str, Any]) -> list[Table]:
    return [Table("accruals", "预提分录 Accrual journal", JOURNAL, p["lines"])]


REPORTS: dict[str, Callable[[dict[str, Any]], list[Table]]] = {
    "accruals": _accruals,
    "rebates": _rebates,
    "slips": _slips,
    "spare-budgets": _budgets,
    "dealers": _dealers,
    "salespeople": _salespeople,
    "weekly": _weekly,
    "statistics": _statistics,
    "explanation": _explanation,
}


def register(report: str, build: Callable[[dict[str, Any]], list[Table]]) -> None:
    """A report family adds its tables (the accrual journal, finance's printed tables)."""
    REPORTS[report] = build


def tables_for(report: str, payload: Any) -> list[Table]:
    if report not in REPORTS:
        raise InvalidInputError(f"format: {report} has no file export", field="format")
    return REPORTS[report](payload)
