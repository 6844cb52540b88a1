"""Tables as CSV: UTF-8 with a byte-order mark (spreadsheets then read the Chinese titles), one
table per file, a zip of files where there are several; money as decimal strings, dates ISO."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

from services.exports.columns import kind, title
from services.exports.tables import Table


def cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(key, v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    if kind(key) == "money":
        return format(Decimal(value).quantize(Decimal("0.01")), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([cell(c, row.get(c)) for c in table.columns])
    return out.getvalue().encode("utf-8-sig")


def to_csv(tables: list[Table]) -> tuple[bytes, bool]:
    """(content, zipped): the one table's CSV, or a zip with a CSV per table."""
    if len(tables) == 1:
        return table_csv(tables[0]), False
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            info = zipfile.ZipInfo(f"{table.name}.csv", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, table_csv(table), zipfile.ZIP_DEFLATED)
    return buffer.getvalue(), True
