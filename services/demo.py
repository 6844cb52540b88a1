"""`channel demo`: runs the demo scenario of examples/ on the embedded default and prints it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from infra.persistence import parse_database_url
from infra.preflight import check_database
from infra.settings import Settings


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", parents=[common], help="run the demo scenario and print the results")
    p.add_argument("--fresh", action="store_true", help="start from an empty SQLite file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from examples.ml_company import QUARTER, Demo
    from services.bootstrap import build_runtime
    from services.reports_cli import quarter_report

    database = parse_database_url(settings.CHANNEL_DATABASE_URL)
    if args.fresh and database.kind == "sqlite" and database.path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(database.path + suffix).unlink(missing_ok=True)
    check_database(settings.CHANNEL_DATABASE_URL, create=True)  # owner-only files (0600)
    runtime = build_runtime(settings)
    try:
        # A new store records its first policy version when opened (R4): only events beyond the
        # policy's own mean the store holds a scenario already.
        if (runtime.app.recorder.max_notification_id() or 0) > runtime.app.get_policy().version:
            print(f"{database.url} already holds events; run with --fresh to start over")
            return 1
        print(f"Channel Ledger demo on {database.url}\n")
        Demo(runtime.app, after=lambda done: runtime.sync(done.position), reports=runtime.reports).run()
        runtime.refresh()
        print()
        print(quarter_report(runtime.reports, QUARTER))
        print(
            f"\n{runtime.app.recorder.max_notification_id()} events in {database.url}. "
            "Try: channel report rebates --period 2026-Q2 --database " + database.url
        )
    finally:
        runtime.close()
    return 0
