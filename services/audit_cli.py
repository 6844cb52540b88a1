"""`channel audit {replay,explain,verify,simulate}`: the auditor's and finance's tools over the
event log (DESIGN.md CLI contract). The logic lives in services/audit/; this module parses and
prints. Exit 0: all is well; 1: a difference, an integrity finding, a stopped read model (verify)
or a refused input."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from domain.errors import InvalidInputError
from infra.settings import Settings
from projections.projection import BATCH
from services.audit import output
from services.audit.verify import Verification, verify

if TYPE_CHECKING:
    from services.runtimes.base import ReadState


def _timeline(p: argparse.ArgumentParser) -> None:
    when = p.add_mutually_exclusive_group()
    when.add_argument("--until", type=int, metavar="POSITION",
                      help="use the log up to this position")
    when.add_argument("--as-of", metavar="DATE",
                      help="use the log as recorded by the end of DATE (UTC; or an ISO date-time)")


def _format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "json"), default="table")


def _progress(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar on stderr")


def _scratch(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keep", action="store_true",
                   help="keep the scratch schema (PostgreSQL) or file (SQLite) and print its URL")
    p.add_argument("--scratch", metavar="NAME",
                   help="scratch schema name (PostgreSQL) or file path (SQLite); default: generated")
    p.add_argument("--batch-size", type=int, default=BATCH, metavar="N",
                   help=f"events per replay transaction (default {BATCH})")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    audit = sub.add_parser("audit", help="replay, explain, verify and simulate from the event log")
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)

    replay = actions.add_parser(
        "replay", parents=[common], help="rebuild every projection in a scratch area and compare",
        description="Rebuild every read-model table from the log into a scratch schema "
        "(PostgreSQL) or file (SQLite), compare it with the live tables and print each "
        "difference. Exit 1 on any difference.",
    )
    _timeline(replay)
    _scratch(replay)
    _progress(replay)
    _format(replay)
    replay.add_argument("--limit", type=int, default=20, metavar="N",
                        help="differences printed per table (default 20)")
    replay.set_defaults(func=run_replay)

    explain = actions.add_parser(
        "explain", parents=[common], help="the events behind a figure (R7)",
        description="The events behind a figure (R7): the deliveries, returns and order lines of "
        "its basis, the threshold reached and the policy version. With --until/--as-of the "
        "figure is rebuilt from the log as it stood then.",
    )
    what = explain.add_subparsers(dest="figure", metavar="FIGURE", required=True)
    rebate = what.add_parser("rebate", parents=[common], help="a dealer's rebate of a period")
    rebate.add_argument("dealer_id")
    rebate.add_argument("period", help="YYYY-MM or YYYY-Qn")
    spare = what.add_parser("spare-budget", parents=[common], help="a pool's spare-parts month")
    spare.add_argument("pool", help="the repair centre's dealer id, or national")
    spare.add_argument("month", help="YYYY-MM")
    ranking = what.add_parser("ranking", parents=[common], help="the dealer ranking of a period")
    ranking.add_argument("period", help="YYYY-MM or YYYY-Qn")
    ranking.add_argument("--region")
    ranking.add_argument("--dealer", dest="dealer_id", help="list the events of this dealer only")
    for p in (rebate, spare, ranking):
        _timeline(p)
        _scratch(p)
        _progress(p)
        _format(p)
        p.set_defaults(func=run_explain)

    check = actions.add_parser(
        "verify", parents=[common], help="the log's integrity: recompute the closes' hash chain",
        description="Recompute the hash chain each month close recorded over the stored events "
        "and name the first event altered, removed or inserted. Events after the last close are "
        "not covered. Also says how far the read model is, and where it stopped if it met an "
        "event it cannot apply. Exit 1 on any finding, or when the read model is stopped.",
    )
    check.add_argument("--expect", action="append", default=[], metavar="MONTH:HASH",
                       help="a close's chain hash kept outside the database (repeatable)")
    _progress(check)
    _format(check)
    check.set_defaults(func=run_verify)

    simulate = actions.add_parser(
        "simulate", parents=[common], help="what a proposed policy would have paid",
        description="Replay history into a scratch area and price every closed month's rebates "
        "under a proposed policy: per dealer and in total, proposed against paid.",
    )
    simulate.add_argument("--policy", required=True, metavar="FILE", help="the proposed policy")
    simulate.add_argument("--from", dest="first", metavar="P", help="first period (YYYY-MM|YYYY-Qn)")
    simulate.add_argument("--to", dest="last", metavar="P", help="last period (YYYY-MM|YYYY-Qn)")
    _timeline(simulate)
    _scratch(simulate)
    _progress(simulate)
    _format(simulate)
    simulate.set_defaults(func=run_simulate)


# --- verify -----------------------------------------------------------------------------------------


def _expected(items: list[str]) -> dict[str, str]:
    result = {}
    for item in items:
        month, sep, digest = item.partition(":")
        if not sep or not digest:
            raise InvalidInputError(f"expect: write MONTH:HASH, not {item!r}", field="expect")
        result[month.strip()] = digest.strip().lower()
    return result


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    from infra.persistence import parse_database_url
    from services.audit.verify import Finding
    from services.bootstrap import build_application, stored_read_state

    expected = _expected(args.expect)
    app = build_application(settings)
    try:
        result = verify(app, progress=args.progress)
        read = stored_read_state(app, parse_database_url(settings.CHANNEL_DATABASE_URL))
    finally:
        app.close()
    hashes = {c.month: c for c in result.closes}
    for month, digest in expected.items():
        close = hashes.get(month)
        if close is None:
            result.findings.append(Finding("anchor", f"no close of {month} is stored", month=month))
        elif close.chain_hash != digest:
            result.findings.append(Finding(
                "anchor", f"the close of {month} records {close.chain_hash[:16]}…, not the hash "
                "kept outside the database: the log was rewritten", month=month))
    if args.format == "json":
        print(output.to_json({**result.as_dict(),
                              "read_model": {**read.as_dict(), "stopped": read.fault is not None}}))
    else:
        print(_verify_text(result))
        print(_read_model_text(read))
    return 0 if result.ok and read.fault is None else 1


def _read_model_text(read: ReadState) -> str:
    fault = read.fault
    if fault is None:
        return f"read model: at log position {read.position} of {read.head} (lag {read.head - read.position})"
    return (f"read model: STOPPED at {fault.describe()} (since {fault.recorded_at}); it has applied "
            f"the log up to position {read.position} of {read.head}: its figures miss the events "
            "from there on until the cause is fixed and the service restarted")


def _verify_text(result: Verification) -> str:
    rows: list[dict[str, Any]] = []
    for c in result.closes:
        found = len(c.findings) + c.more
        first = c.findings[0] if c.findings else None
        summary = "ok"
        if first is not None:
            summary = first.kind + (f" at {first.position}" if first.position is not None else "")
            summary += f" (+{found - 1} more)" if found > 1 else ""
        rows.append({"close": c.month, "positions": f"{c.covers_from}..{c.covers_to}",
                     "events": c.events, "chain": c.chain_hash[:12], "result": summary})
    low, high = result.uncovered
    if high >= low:
        rows.append({"close": "(none yet)", "positions": f"{low}..{high}",
                     "events": high - low + 1, "chain": "-",
                     "result": "after the last close: not covered"})
    lines = [output.table(rows, ["close", "positions", "events", "chain", "result"]), ""]
    slip_findings = [f for f in result.findings if "rebate slip" in f.message]
    lines.append(f"rebate slips: {result.slips} checked against the events they sealed"
                 + (f", {len(slip_findings)} finding(s)" if slip_findings else ", all intact"))
    lines.extend(f"- {f.message}" for f in result.all_findings)
    for c in result.closes:
        if c.more:
            lines.append(f"- and {c.more} more differences in the range of the close of {c.month}")
    first = result.first
    if first is None:
        lines.append(f"OK: the log is intact up to position {result.covered_to}.")
        if result.last_hash:
            lines.append(f"Chain hash of the close of {result.closes[-1].month} (keep a copy "
                         f"outside the database): {result.last_hash}")
    else:
        lines.append(f"\nFAILED: {first.message}")
    return "\n".join(lines)


# --- replay, explain, simulate ------------------------------------------------------------------------


def run_replay(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.commands import replay_command

    return replay_command(args, settings, sys.stdout)


def run_explain(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.commands import explain_command

    return explain_command(args, settings, sys.stdout)


def run_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.commands import simulate_command

    return simulate_command(args, settings, sys.stdout)
