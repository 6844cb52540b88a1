"""The CSV files the import reads (docs/import.md): UTF-8 with or without a byte-order mark, a header
row naming the columns, one row per order line, delivery or returned line. Rows that share a
client reference (returns: and a return date) make one unit, written together or not at all."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from domain.errors import InvalidInputError

DEALER = ("dealer_id", "dealer_name")  # one of them names the dealer; both: they must agree


@dataclass(frozen=True)
class Layout:
    """One kind of file: its columns, those a header must name, the columns whose values make the
    rows of one unit (with the dealer), those the rows of a unit must agree on, and the rule that
    says what a row gives (O1 an order's fields, O3 a delivery's and a return's)."""

    kind: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key: tuple[str, ...]
    shared: tuple[str, ...]
    rule: str
    unit: str  # what a unit is, in the summary: "orders", "deliveries", "returns"


ORDERS = Layout(
    "orders",
    columns=(*DEALER, "client_ref", "order_date", "ship_to_region", "payment", "sku", "qty",
             "unit_price", "approved_on", "approval_note"),
    required=("client_ref", "order_date", "ship_to_region", "payment", "sku", "qty"),
    key=("client_ref",),
    shared=("order_date", "ship_to_region", "payment", "approved_on", "approval_note"),
    rule="O1",
    unit="orders",
)
DELIVERIES = Layout(
    "deliveries",
    columns=(*DEALER, "client_ref", "shipped_on", "delivered_on", "paid_on", "paid_amount"),
    required=("client_ref", "delivered_on"),
    key=("client_ref",),
    shared=("shipped_on", "delivered_on", "paid_on", "paid_amount"),
    rule="O3",
    unit="deliveries",
)
RETURNS = Layout(
    "returns",
    columns=(*DEALER, "client_ref", "returned_on", "sku", "qty"),
    required=("client_ref", "returned_on", "sku", "qty"),
    key=("client_ref", "returned_on"),
    shared=(),
    rule="O3",
    unit="returns",
)
LAYOUTS = {layout.kind: layout for layout in (ORDERS, DELIVERIES, RETURNS)}


@dataclass(frozen=True)
class Row:
    """A row of the file: its line number (the header is line 1), its non-empty cells by column,
    and what makes it unreadable, if anything."""

    line: int
    values: dict[str, str]
    error: str | None = None

    def get(self, column: str) -> str | None:
        return self.values.get(column)


@dataclass
class Unit:
    """The rows written together: an order's lines, an order's delivery, one return."""

    key: tuple[str, ...]
    rows: list[Row] = field(default_factory=list)

    @property
    def first(self) -> Row:
        return self.rows[0]

    @property
    def client_ref(self) -> str:
        return self.first.get("client_ref") or ""


def _file_error(path: Path, message: str) -> InvalidInputError:
    return InvalidInputError(f"{path}: {message}", field="file")


def check_header(path: Path, header: list[str], layout: Layout) -> None:
    unknown = [name for name in header if name not in layout.columns]
    if unknown:
        raise _file_error(path, f"unknown column {unknown[0]!r}; the {layout.kind} columns are "
                                f"{', '.join(layout.columns)}")
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise _file_error(path, f"column {twice[0]!r} appears twice in the header")
    missing = [name for name in layout.required if name not in header]
    if missing:
        raise _file_error(path, f"the header lacks the column {missing[0]!r}")
    if not any(name in header for name in DEALER):
        raise _file_error(path, "the header names neither dealer_id nor dealer_name")


def read_rows(path: Path, layout: Layout) -> list[Row]:
    """The file's rows; InvalidInputError naming the file for what makes the whole file unreadable
    (not UTF-8, no header, a header of other columns, a broken quote). A row with too few or too
    many cells is kept, marked, so that its unit is refused."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(_rows(path, csv.reader(handle, strict=True), layout))
    except UnicodeDecodeError as exc:
        raise _file_error(path, f"not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise _file_error(path, f"not a readable CSV file: {exc}") from None
    except OSError as exc:
        raise _file_error(path, f"cannot read it: {exc.strerror}") from None


def _rows(path: Path, reader: Iterator[list[str]], layout: Layout) -> Iterator[Row]:
    header = next(reader, None)
    if header is None:
        raise _file_error(path, "the file is empty; it starts with a header row")
    check_header(path, header, layout)
    line = getattr(reader, "line_num", 1) + 1
    for cells in reader:
        start, line = line, getattr(reader, "line_num", line) + 1
        if not any(cells):
            continue  # a blank line
        error = None
        if len(cells) != len(header):
            error = f"{len(cells)} cells; the header names {len(header)} columns"
        values = {name: cell for name, cell in zip(header, cells, strict=False) if cell != ""}
        yield Row(start, values, error)


def units(rows: list[Row], layout: Layout) -> list[Unit]:
    """The rows grouped into units, in the order each unit first appears in the file."""
    found: dict[tuple[str, ...], Unit] = {}
    for row in rows:
        key = tuple(row.get(c) or "" for c in (*DEALER, *layout.key))
        found.setdefault(key, Unit(key)).rows.append(row)
    return list(found.values())
