"""`channel report {rebates,spare-budgets,dealers,salespeople,weekly,statistics,slips}`: the read
model's reports as a table, CSV or JSON (services/report_format.py); `quarter_report` also serves
the demo."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from domain.errors import InvalidInputError
from domain.values import Month, Quarter, parse_period
from infra.settings import Settings
from projections.queries import Reports
from services.report_format import COLUMNS, FORMATS, render, sections, to_json


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
    p.add_argument("report", choices=sorted(REPORTS), help="which report")
    p.add_argument("--period", help="YYYY-MM or YYYY-Qn (weekly: YYYY-Www); default: the last closed month")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--region", help="dealers: rank within one region")
    p.add_argument("--dealer-id", help="rebates, slips: one dealer")
    p.add_argument("--salesperson", help="weekly: whose week")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build_runtime

    runtime = build_runtime(settings)
    try:
        runtime.refresh()
        print(REPORTS[args.report](runtime.reports, args))
    finally:
        runtime.close()
    return 0


def _period(reports: Reports, args: argparse.Namespace) -> str:
    if args.period:
        return str(parse_period(args.period))
    with reports.view.reading() as db:
        last = db.scalar("SELECT MAX(month) FROM @closes")
    if last is None:
        raise InvalidInputError("--period: no month is closed yet; name a period", field="period")
    return str(Month.parse(last))


def _rebates(reports: Reports, args: argparse.Namespace) -> str:
    rows = reports.rebates(_period(reports, args), args.dealer_id)
    if args.format == "json":
        return to_json({"entries": rows})
    return render(rows, args.format, COLUMNS["rebates"])


def _slips(reports: Reports, args: argparse.Namespace) -> str:
    slips = reports.slips(args.dealer_id, _period(reports, args))
    if args.format == "json":
        return to_json({"slips": slips})
    return render(slip_rows(slips), args.format, COLUMNS["slips"])


def _budgets(reports: Reports, args: argparse.Namespace) -> str:
    period = parse_period(_period(reports, args))
    months = period.months if isinstance(period, Quarter) else [period]
    rows = [row for m in months for row in reports.spare_budgets(str(m))]
    if args.format == "json":
        return to_json({"pools": rows})
    return render(rows, args.format, COLUMNS["spare-budgets"])


def _dealers(reports: Reports, args: argparse.Namespace) -> str:
    period = _period(reports, args)
    rows = reports.dealer_ranking(period, args.region)
    flags = reports.d5_flags(period)
    if args.format == "json":
        return to_json({"rows": rows, "d5": flags})
    return sections(
        [(f"Dealer ranking {period} (K3)", rows, "dealers"), (f"D5 succession {period}", flags, "d5")],
        args.format,
    )


def _salespeople(reports: Reports, args: argparse.Namespace) -> str:
    rows = reports.salesperson_ranking(_period(reports, args))
    if args.format == "json":
        return to_json({"rows": rows})
    return render(rows, args.format, COLUMNS["salespeople"])


def _weekly(reports: Reports, args: argparse.Namespace) -> str:
    if not args.salesperson or not args.period:
        raise InvalidInputError("weekly: give --salesperson and --period YYYY-Www", field="salesperson")
    week = reports.weekly(args.salesperson, args.period)
    if args.format == "json":
        return to_json(week)
    summary = [
        {
            "salesperson": week["salesperson"],
            "week": week["week"],
            "from": week["from"],
            "to": week["to"],
            "net_sales": week["net_sales"],
            "month_to_date": week["month_to_date"],
            "quota": week["quota"],
        }
    ]
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
        args.format,
    )


def _statistics(reports: Reports, args: argparse.Namespace) -> str:
    stats = reports.statistics(_period(reports, args))
    if args.format == "json":
        return to_json(stats)
    totals = [{"region": "total", **stats["totals"]}]
    return sections(
        [
            (f"Sales statistics {stats['period']} by dealer (K5)", stats["dealers"], "stat-dealers"),
            (f"Salesperson statistics {stats['period']} (K5)", stats["salespeople"], "stat-salespeople"),
            (f"By region {stats['period']} (K5, D5)", stats["regions"] + totals, "stat-regions"),
        ],
        args.format,
    )


REPORTS: dict[str, Callable[[Reports, argparse.Namespace], str]] = {
    "rebates": _rebates,
    "slips": _slips,
    "spare-budgets": _budgets,
    "dealers": _dealers,
    "salespeople": _salespeople,
    "weekly": _weekly,
    "statistics": _statistics,
}
