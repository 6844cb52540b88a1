"""Plain-text tables and JSON for the audit commands: money and dates printed as they are stored
(Decimal as its string, date as ISO), never through float."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from infra import jsontext


def text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *,
          headers: Mapping[str, str] | None = None) -> str:
    """Columns left-aligned, numbers (Decimal, int) right-aligned."""
    names = [(headers or {}).get(c, c) for c in columns]
    cells = [[text(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(n)] + [len(row[i]) for row in cells]) for i, n in enumerate(names)]
    numeric = [
        bool(rows) and all(isinstance(r.get(c), Decimal | int) and not isinstance(r.get(c), bool)
                           for r in rows if r.get(c) is not None)
        for c in columns
    ]

    def fmt(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    lines = [fmt(names), fmt(["-" * w for w in widths])]
    lines.extend(fmt(row) for row in cells)
    return "\n".join(lines)


def to_json(value: Any) -> str:
    return jsontext.dumps(value, indent=2)
