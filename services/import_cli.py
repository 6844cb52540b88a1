"""`channel import {orders,deliveries,returns} FILE.csv [--dry-run] [--report FILE]`: history from
another system through the application's own commands (services/importer, docs/import.md). Exit
status 0 when every row is imported or already present, 3 when rows were rejected (the others are
imported; in a dry run, would be), 1 when the import cannot run at all."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from domain.errors import InvalidInputError
from infra.persistence import parse_database_url
from infra.settings import Settings
from projections.projection import ChannelProjection, catch_up
from projections.queries import Reports
from projections.views import PostgresChannelView
from services.bootstrap import build_application, open_view
from services.importer import LAYOUTS, Importer, Progress, StagedLedger, load_file, report_csv

REJECTED = 3  # the exit status when rows were rejected


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "import", parents=[common], help="load orders, deliveries or returns from a CSV file",
        description="Load history from another system through the same commands as the API. "
        "A unit (an order's rows, a delivery, a return) is written whole or not at all; a row "
        "already in the store adds nothing. Exit status 3 when rows were rejected.",
    )
    p.add_argument("kind", choices=sorted(LAYOUTS), help="what the file holds")
    p.add_argument("file", metavar="FILE.csv", help="UTF-8 CSV with a header row (docs/import.md)")
    p.add_argument("--dry-run", action="store_true",
                   help="check every row through the same rules; write nothing")
    p.add_argument("--report", metavar="FILE",
                   help="also write the rejected rows (line, field, rule, message) as CSV")
    p.set_defaults(func=run)


def dealer_names(app: StagedLedger, settings: Settings) -> Callable[[str], list[str]]:
    """Dealers by registered name, from the read model, once first asked (an import that names
    its dealers by id needs no read model). The read model's tables are first brought up to the
    log, as a report does; no process manager runs and no event is written."""
    found: dict[str, list[str]] = {}

    def lookup(name: str) -> list[str]:
        if not found:
            database = parse_database_url(settings.CHANNEL_DATABASE_URL)
            view = open_view(app, database)
            try:
                catch_up(app, ChannelProjection(view=view))
                for dealer in Reports(view).dealers():
                    found.setdefault(dealer["name"], []).append(dealer["dealer_id"])
            finally:
                if isinstance(view, PostgresChannelView):
                    view.datastore.close()
            found.setdefault("", [])  # asked once, even of a store without dealers
        return found.get(name, [])

    return lookup


def run(args: argparse.Namespace, settings: Settings) -> int:
    rows = load_file(args.file, args.kind)
    app = build_application(settings, ledger=StagedLedger, open_policy=not args.dry_run)
    assert isinstance(app, StagedLedger)
    label = f"import {args.kind}" + (" (dry run)" if args.dry_run else "")
    try:
        importer = Importer(app, args.kind, dealer_names(app, settings), dry_run=args.dry_run,
                            progress=lambda total: Progress(label, total, sys.stderr))
        summary = importer.run(rows)
    finally:
        app.close()
    for rejection in summary.rejections:
        print(f"channel import: {rejection.describe()}", file=sys.stderr)
    if args.report:
        try:
            Path(args.report).write_bytes(report_csv(summary.rejections))
        except OSError as exc:
            raise InvalidInputError(f"--report: cannot write {args.report}: {exc.strerror}",
                                    field="report") from exc
    print(summary.line())
    return REJECTED if summary.rejections else 0
