"""Tables as an xlsx workbook (openpyxl): one sheet per table, the header row frozen and bold,
money as numbers with the two-decimal number format, dates as dates."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.exports.columns import kind, title
from services.exports.csv_out import cell
from services.exports.tables import Table

MONEY_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"


def _value(key: str, value: Any) -> tuple[Any, str | None]:
    """The cell's value and number format."""
    if value is None:
        return None, None
    column = kind(key)
    if column == "money":
        # openpyxl writes a Decimal as a number cell as it is: no float on the way.
        return Decimal(value).quantize(Decimal("0.01")), MONEY_FORMAT
    if column == "number" and isinstance(value, (Decimal, int, str)):
        return Decimal(value), None
    if column == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if column == "date" and isinstance(value, date):
        return value, DATE_FORMAT
    return cell(key, value), None


def to_xlsx(tables: list[Table]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.sheet[:31])
        sheet.append([title(c) for c in table.columns])
        for heading in sheet[1]:
            heading.font = Font(bold=True)
        for r, row in enumerate(table.rows, start=2):
            for c, key in enumerate(table.columns, start=1):
                value, number_format = _value(key, row.get(key))
                target = sheet.cell(row=r, column=c, value=value)
                if number_format:
                    target.number_format = number_format
        sheet.freeze_panes = "A2"
        for c, key in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(c)].width = max(12, len(title(key)) + 4)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
