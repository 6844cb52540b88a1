"""What `channel audit replay|explain|simulate` print: the session's results as text or JSON."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from infra.settings import Settings
from services.audit import output
from services.audit.session import Audit, ReplayReport

# --- replay -----------------------------------------------------------------------------------------


def replay_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    with Audit(settings, progress=args.progress) as audit:
        head = audit.head
        report = audit.replay_and_compare(
            until=args.until, as_of=args.as_of, name=args.scratch, keep=args.keep,
            batch_size=args.batch_size, limit=args.limit,
        )
    if args.format == "json":
        out.write(output.to_json(replay_dict(report, head)) + "\n")
    else:
        out.write(replay_text(report, head) + "\n")
    return 0 if report.equal else 1


def replay_dict(report: ReplayReport, head: int) -> dict[str, Any]:
    return {
        "head": head,
        "cut": None if report.cut is None else {"position": report.cut.position,
                                                "description": report.cut.description},
        "replayed_to": report.replayed_to,
        "events": report.events,
        "seconds": round(report.seconds, 3),
        "scratch": report.scratch or None,
        **report.comparison.as_dict(),
    }


def replay_text(report: ReplayReport, head: int) -> str:
    c = report.comparison
    basis = report.cut.description if report.cut is not None else "as far as the live tables"
    lines = [
        f"log head {head:,}; live tables at {c.live_position:,}; replayed {basis}: "
        f"positions 1..{report.replayed_to:,}, {report.events:,} events, "
        f"{report.rate:,.0f} events/s",
    ]
    if report.cut is not None and report.replayed_to < c.live_position:
        lines.append("the cut lies before the live tables' position: the differences below are "
                     "what the log recorded after it")
    rows = [{"table": t.table, "live rows": t.live_rows, "replay rows": t.replay_rows,
             "missing from replay": t.live_only, "only in replay": t.replay_only}
            for t in c.tables]
    lines += ["", output.table(rows, ["table", "live rows", "replay rows", "missing from replay",
                                      "only in replay"])]
    for t in c.tables:
        if not t.differs:
            continue
        lines.append(f"\n{t.table}: {t.live_only} live row(s) the replay lacks or differs from, "
                     f"{t.replay_only} replay row(s) the live table lacks or differs from")
        for d in t.samples:
            key = ", ".join(f"{k}={output.text(v)}" for k, v in d.key.items())
            if d.live is not None and d.replay is not None:
                changes = "; ".join(f"{col}: live {output.text(d.live[col])} ≠ replay "
                                    f"{output.text(d.replay[col])}" for col in d.columns)
                lines.append(f"  changed  {key}: {changes}")
            elif d.live is not None:
                lines.append(f"  missing from replay  {key}: {_row(d.live)}")
            elif d.replay is not None:
                lines.append(f"  only in replay  {key}: {_row(d.replay)}")
        shown = len(t.samples)
        if shown < max(t.live_only, t.replay_only):
            lines.append("  … (--limit N shows more)")
    if report.scratch:
        lines.append(f"\nthe rebuilt tables are kept at {report.scratch}")
    if c.equal:
        rows_total = sum(t.live_rows for t in c.tables)
        lines.append(f"\nOK: the replay equals the live tables ({rows_total:,} rows).")
    else:
        live_only = sum(t.live_only for t in c.tables)
        replay_only = sum(t.replay_only for t in c.tables)
        lines.append(f"\nDIFFERENT: {live_only} live row(s) and {replay_only} replayed row(s) have "
                     "no equal on the other side.")
    return "\n".join(lines)


def _row(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={output.text(v)}" for k, v in row.items())


# --- explain ----------------------------------------------------------------------------------------


def explain_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from services.audit.explain import explain

    with Audit(settings, progress=args.progress) as audit:
        result = explain(audit, args)
    out.write((output.to_json(result.data) if args.format == "json" else result.text) + "\n")
    return 0


# --- simulate ---------------------------------------------------------------------------------------


def simulate_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from infra.policy_file import load_policy
    from services.audit.simulate import simulate, simulation_text

    proposal = load_policy(args.policy)
    with Audit(settings, progress=args.progress) as audit:
        result = simulate(audit, proposal, first=args.first, last=args.last, until=args.until,
                          as_of=args.as_of, name=args.scratch, keep=args.keep,
                          batch_size=args.batch_size)
    out.write((output.to_json(result.as_dict()) if args.format == "json"
               else simulation_text(result)) + "\n")
    return 0
