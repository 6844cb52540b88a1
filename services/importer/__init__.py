"""`channel import orders|deliveries|returns FILE.csv` (DESIGN "Import"): history from another
system loaded through the application's own commands, unit by unit (an order's lines, an order's
delivery, a return), idempotent by client reference, with a dry run and a rejection report.
docs/import.md describes the files."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from domain.errors import ChannelError
from services.importer.kinds import HANDLERS, Names, check_unit, dealer_of
from services.importer.layout import LAYOUTS, Layout, Row, Unit, read_rows, units
from services.importer.outcome import (
    IMPORTED,
    PRESENT,
    REPORT_COLUMNS,
    Rejected,
    Rejection,
    from_error,
)
from services.importer.progress import Progress
from services.importer.staging import StagedLedger

__all__ = ["LAYOUTS", "Importer", "Progress", "StagedLedger", "Summary", "read_rows",
           "report_csv"]


@dataclass
class Summary:
    """What an import did (or, in a dry run, would do), counted in rows and in units."""

    kind: str
    dry_run: bool
    rows: int = 0
    imported: int = 0  # rows
    present: int = 0  # rows already in the store: nothing added
    units_imported: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    position: int | None = None  # the last log position written

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def line(self) -> str:
        unit = LAYOUTS[self.kind].unit
        verb = "would be imported" if self.dry_run else "imported"
        text = (f"{self.kind}: {self.rows} rows: {self.imported} {verb} ({self.units_imported} "
                f"{unit}), {self.present} already present, {self.rejected} rejected")
        return text + (" (dry run: nothing was written)" if self.dry_run else "")


class Importer:
    """Runs each unit of a file as one unit of work of the `StagedLedger` (services/importer/
    staging.py): stored in one save, or, in a dry run, kept in memory; a rejected unit leaves
    nothing behind either way."""

    def __init__(self, ledger: StagedLedger, kind: str, names: Names, *, dry_run: bool = False,
                 progress: Callable[[int], Progress] | None = None) -> None:
        self.ledger, self.layout, self.names, self.dry_run = ledger, LAYOUTS[kind], names, dry_run
        self.handler = HANDLERS[kind]
        self.progress = progress

    def run(self, rows: list[Row]) -> Summary:
        summary = Summary(self.layout.kind, self.dry_run, rows=len(rows))
        bar = self.progress(len(rows)) if self.progress else None
        try:
            for unit in units(rows, self.layout):
                self._one(unit, summary)
                if bar is not None:
                    bar.advance(len(unit.rows))
        finally:
            if bar is not None:
                bar.close()
        return summary

    def _one(self, unit: Unit, summary: Summary) -> None:
        layout: Layout = self.layout

        def work() -> str:
            check_unit(unit, layout)
            return self.handler(self.ledger, unit, dealer_of(unit, self.names, layout))

        try:
            outcome, position = self.ledger.unit(work, dry_run=self.dry_run)
        except Rejected as rejected:
            summary.rejections.extend(rejected.rejections(unit))
            return
        except ChannelError as error:  # beyond any command: the unit kept meeting other writers
            summary.rejections.extend(from_error(error, layout.rule, {}, "client_ref")
                                      .rejections(unit))
            return
        if outcome == PRESENT:
            summary.present += len(unit.rows)
            return
        assert outcome == IMPORTED
        summary.imported += len(unit.rows)
        summary.units_imported += 1
        if position is not None:
            summary.position = position


def report_csv(rejections: Iterable[Rejection]) -> bytes:
    """The rejections as a CSV file (UTF-8 with a byte-order mark, as the exports are)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for r in rejections:
        writer.writerow([r.as_row()[c] for c in REPORT_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def load_file(path: str | Path, kind: str) -> list[Row]:
    return read_rows(Path(path), LAYOUTS[kind])
