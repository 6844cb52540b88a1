"""`channel report {rebates,spare-budgets,dealers,salespeople,weekly,statistics,slips,accruals,
confirmations,sales-performance,salesperson-performance,quarterly-rebates}`: the read model's
reports as a table or JSON (services/report_format.py), or as CSV or xlsx files (services/exports);
`quarter_report` also serves the demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from domain.errors import InvalidInputError
from domain.values import Month, Quarter, parse_period
from infra.settings import Settings
from projections.queries import Reports
from services.exports import export, tables_for
from services.report_format import COLUMNS, render, sections, to_json

FORMATS = ("table", "json", "csv", "xlsx")


def slip_rows(slips: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slips with their lines summarised, for a table."""
    return [
        {
            **s,
            "lines": "; ".join(
                f"{x['line']} {x['kind']} {x['period']} {x['amount']} ({x['status']})" for x in s["lines"]
            ),
            "disputes": len(s["disputes"]),
        }
        for s in slips
    ]


def quarter_report(reports: Reports, quarter: str, fmt: str = "table") -> str:
    """The demo's closing print: the quarter's rebate ledger, slips, spare-parts budgets and
    rankings."""
    parsed = Quarter.parse(quarter)
    last = str(parsed.months[-1])
    budgets = [row for m in parsed.months for row in reports.spare_budgets(str(m))]
    tables: list[tuple[str, Sequence[dict[str, Any]], str]] = [
        (f"Rebate ledger {parsed} (R1–R5)", reports.rebates(str(parsed)), "rebates"),
        (
            f"Rebate confirmation slips {parsed} (R5, R6)",
            slip_rows(reports.slips(period=str(parsed))),
            "slips",
        ),
        (f"Spare-parts budgets {parsed} (S2, S3)", budgets, "spare-budgets"),
        (f"Dealer ranking {parsed} (K3)", reports.dealer_ranking(str(parsed)), "dealers"),
        (f"Salesperson ranking {last} (K2, K4)", reports.salesperson_ranking(last), "salespeople"),
        (f"Salesperson ranking {parsed} (K4)", reports.salesperson_ranking(str(parsed)), "salespeople"),
        (f"Regions lacking an AA dealer to step up {parsed} (D5)", reports.d5_flags(str(parsed)), "d5"),
    ]
    return sections(tables, fmt)


# --- the command ------------------------------------------------------------------------------


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("report", parents=[common], help="print a report of the read model")
    p.add_argument("report", choices=sorted(PAYLOADS), help="which report")
    p.add_argument("--period", help="YYYY-MM or YYYY-Qn (weekly: YYYY-Www); default: the last closed month")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", help="csv, xlsx: the file to write (a zip where a report has several tables)")
    p.add_argument("--region", help="dealers, sales-performance: one region")
    p.add_argument("--dealer-id", help="rebates, slips, confirmations: one dealer")
    p.add_argument("--salesperson", help="weekly: whose week")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build_runtime

    runtime = build_runtime(settings)
    try:
        runtime.refresh()
        payload = PAYLOADS[args.report](runtime.reports, args)
        if args.format == "table":
            print(TABLES[args.report](payload))
        elif args.format == "json":
            print(to_json(payload))
        else:
            write_file(args.report, payload, args.format, args.output)
    finally:
        runtime.close()
    return 0


def write_file(report: str, payload: Any, fmt: str, output: str | None) -> None:
    """CSV or xlsx to `output`; a single CSV table may go to standard output."""
    content, _media, suffix = export(report, payload, fmt)
    if output is None:
        if suffix != "csv":
            raise InvalidInputError(
                f"--output: {report} as {fmt} is a {suffix} file; name it", field="output"
            )
        sys.stdout.write(content.decode("utf-8-sig"))
        return
    try:
        with open(output, "wb") as out:
            out.write(content)
    except OSError as exc:
        raise InvalidInputError(f"--output: cannot write {output}: {exc.strerror}", field="output") from exc
    print(f"wrote {output} ({suffix}, {len(content)} bytes)", file=sys.stderr)


def _period(reports: Reports, args: argparse.Namespace) -> str:
    if args.period:
        return str(parse_period(args.period))
    with reports.view.reading() as db:
        last = db.scalar("SELECT MAX(month) FROM @closes")
    if last is None:
        raise InvalidInputError("--period: no month is closed yet; name a period", field="period")
    return str(Month.parse(last))


# --- each report's answer (the JSON the API gives) ------------------------------------------


def _budget_rows(reports: Reports, period: str) -> list[dict[str, Any]]:
    parsed = parse_period(period)
    months = parsed.months if isinstance(parsed, Quarter) else [parsed]
    return [row for m in months for row in reports.spare_budgets(str(m))]


def _weekly(reports: Reports, args: argparse.Namespace) -> dict[str, Any]:
    if not args.salesperson or not args.period:
        raise InvalidInputError("weekly: give --salesperson and --period YYYY-Www", field="salesperson")
    found: dict[str, Any] = reports.weekly(args.salesperson, args.period)
    return found


PAYLOADS: dict[str, Callable[[Reports, argparse.Namespace], dict[str, Any]]] = {
    "rebates": lambda r, a: {"entries": r.rebates(_period(r, a), a.dealer_id)},
    "slips": lambda r, a: {"slips": r.slips(a.dealer_id, _period(r, a))},
    "spare-budgets": lambda r, a: {"pools": _budget_rows(r, _period(r, a))},
    "dealers": lambda r, a: {
        "rows": r.dealer_ranking(p := _period(r, a), a.region),
        "d5": r.d5_flags(p),
    },
    "salespeople": lambda r, a: {"rows": r.salesperson_ranking(_period(r, a))},
    "weekly": _weekly,
    "statistics": lambda r, a: dict(r.statistics(_period(r, a))),
    "accruals": lambda r, a: dict(r.accruals(_period(r, a))),
    # finance's printed tables (services/exports/finance.py)
    "confirmations": lambda r, a: r.confirmations(_period(r, a), a.dealer_id),
    "sales-performance": lambda r, a: r.sales_performance(_period(r, a), a.region),
    "salesperson-performance": lambda r, a: r.salesperson_performance(_period(r, a)),
    "quarterly-rebates": lambda r, a: r.quarterly_rebates(_period(r, a)),
}


# --- each report as an aligned table ----------------------------------------------------------


def _week_table(week: dict[str, Any]) -> str:
    summary = [{k: week[k] for k in COLUMNS["weekly"]}]
    progress = [
        {"step": step, "count": v["count"], "dealers": [d["name"] for d in v["dealers"]]}
        for step, v in week["progress"].items()
    ]
    return sections(
        [
            (f"Week {week['week']} of {week['salesperson']} (K1)", summary, "weekly"),
            ("Net sales by dealer", week["by_dealer"], "weekly-dealers"),
            ("Channel progress", progress, "weekly-progress"),
            ("Forecasts of the salesperson's dealers", week["forecasts"], "forecasts"),
        ],
        "table",
    )


def _statistics_table(stats: dict[str, Any]) -> str:
    totals = [{"region": "total", **stats["totals"]}]
    return sections(
        [
            (f"Sales statistics {stats['period']} by dealer (K5)", stats["dealers"], "stat-dealers"),
            (f"Salesperson statistics {stats['period']} (K5)", stats["salespeople"], "stat-salespeople"),
            (f"By region {stats['period']} (K5, D5)", stats["regions"] + totals, "stat-regions"),
        ],
        "table",
    )


TABLES: dict[str, Callable[[dict[str, Any]], str]] = {
    "rebates": lambda p: render(p["entries"], "table", COLUMNS["rebates"]),
    "slips": lambda p: render(slip_rows(p["slips"]), "table", COLUMNS["slips"]),
    "spare-budgets": lambda p: render(p["pools"], "table", COLUMNS["spare-budgets"]),
    "dealers": lambda p: sections(
        [("Dealer ranking (K3)", p["rows"], "dealers"), ("D5 succession", p["d5"], "d5")], "table"
    ),
    "salespeople": lambda p: render(p["rows"], "table", COLUMNS["salespeople"]),
    "weekly": _week_table,
    "statistics": _statistics_table,
    "accruals": lambda p: render(p["lines"], "table", COLUMNS["accruals"]),
}


def _printed(report: str) -> Callable[[dict[str, Any]], str]:
    """Finance's printed tables as aligned text: their export tables, ids left out."""

    def text(payload: dict[str, Any]) -> str:
        return "\n\n".join(
            f"{t.sheet}\n" + render(t.rows, "table", [c for c in t.columns if not c.endswith("_id")])
            for t in tables_for(report, payload)
        )

    return text


TABLES.update({name: _printed(name) for name in
               ("confirmations", "sales-performance", "salesperson-performance",
                "quarterly-rebates")})
