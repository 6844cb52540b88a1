"""Reports and slips as files finance opens: one CSV per table (a zip where a report has several)
or an xlsx workbook with one sheet per table; the tables themselves come from `tables`."""

from __future__ import annotations

from services.exports.csv_out import to_csv
from services.exports.tables import REPORTS, Table, tables_for
from services.exports.xlsx_out import to_xlsx

# Finance's printed tables register their own (services/exports/finance.py).
from services.exports import finance as _finance  # noqa: F401  # isort: skip

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
FILE_FORMATS = ("csv", "xlsx")


def export(report: str, payload: object, fmt: str) -> tuple[bytes, str, str]:
    """The report's tables as (content, media type, file suffix) for `fmt` csv or xlsx."""
    tables = tables_for(report, payload)
    if fmt == "xlsx":
        return to_xlsx(tables), XLSX, "xlsx"
    content, zipped = to_csv(tables)
    return (content, ZIP, "zip") if zipped else (content, CSV, "csv")


__all__ = ["CSV", "FILE_FORMATS", "REPORTS", "XLSX", "ZIP", "Table", "export", "tables_for"]
