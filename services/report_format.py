"""The read model's rows as text for `channel report` and the demo: an aligned table, CSV or JSON
(money as decimal strings, dates ISO), with the columns each report shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.errors import InvalidInputError
from infra import jsontext

FORMATS = ("table", "csv", "json")

# The columns a table or CSV shows (JSON carries every field).
COLUMNS: dict[str, list[str]] = {
    "rebates": [
        "dealer_name",
        "period",
        "kind",
        "status",
        "tier",
        "basis",
        "threshold",
        "rate",
        "amount",
        "policy_version",
    ],
    "slips": ["dealer_name", "period", "status", "issued_on", "lines", "total", "disputes"],
    "spare-budgets": [
        "pool_name",
        "region",
        "month",
        "basis",
        "carried_over",
        "allocated",
        "drawn",
        "balance",
        "status",
        "policy_version",
    ],
    "dealers": [
        "rank",
        "name",
        "region",
        "region_rank",
        "tier",
        "salesperson",
        "net_sales",
        "deliveries",
        "returns",
    ],
    "salespeople": [
        "rank",
        "salesperson",
        "region",
        "net_sales",
        "quota",
        "carried",
        "target",
        "achievement",
        "bonus",
        "flags",
    ],
    "d5": ["region", "a_dealers", "aa_dealers", "flagged"],
    "stat-dealers": ["name", "region", "tier", "orders", "net_sales", "deliveries", "returns", "rebates"],
    "stat-salespeople": [
        "salesperson",
        "region",
        "orders",
        "net_sales",
        "returns",
        "rebates",
        "quota",
        "achievement",
        "flags",
    ],
    "stat-regions": [
        "region",
        "dealers",
        "orders",
        "net_sales",
        "deliveries",
        "returns",
        "rebates",
        "lacks_aa_successor",
    ],
    "weekly": ["salesperson", "week", "from", "to", "net_sales", "month_to_date", "quota"],
    "weekly-dealers": ["name", "net_sales", "deliveries", "returns"],
    "weekly-progress": ["step", "count", "dealers"],
    "forecasts": ["name", "month", "amount"],
    "accruals": ["date", "account", "debit", "credit", "dealer_name", "reference"],
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return value.isoformat() if isinstance(value, date) else str(value)


def to_json(value: Any) -> str:
    return jsontext.dumps(value, indent=2)


def render(rows: Sequence[dict[str, Any]], fmt: str = "table", columns: Sequence[str] | None = None) -> str:
    """Rows as an aligned text table, CSV or JSON (money as decimal strings, dates ISO)."""
    if fmt == "json":
        return to_json(list(rows))
    cols = list(columns) if columns else (list(rows[0]) if rows else [])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in cols])
        return out.getvalue().rstrip("\n")
    if fmt != "table":
        raise InvalidInputError(f"format: one of {', '.join(FORMATS)}", field="format")
    if not rows:
        return "  (none)"
    cells = [[_cell(row.get(c)) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    numeric = [all(_numeric(row.get(c)) for row in rows) for c in cols]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(cols), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _numeric(value: Any) -> bool:
    return value is None or (isinstance(value, (int, Decimal)) and not isinstance(value, bool))


def sections(sections: list[tuple[str, Sequence[dict[str, Any]], str]], fmt: str) -> str:
    """Several tables one after another, each under its title."""
    parts = []
    for title, rows, columns in sections:
        body = render(rows, fmt, COLUMNS[columns])
        parts.append(f"# {title}\n{body}" if fmt == "csv" else f"{title}\n{body}")
    return "\n\n".join(parts)
