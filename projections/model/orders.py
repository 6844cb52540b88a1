"""The orders family's tables and handlers: orders and their lines (O1, O3), and the net-sales facts
(O5: + delivered, − returned, by business date) with the dealer, region and owner (D8)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.sql import Db
from projections.model.base import Gatherer, columns_of, handles
from projections.model.dealers import owner_histories, owner_on
from projections.records import EventRecord, cents, day, to_json

TABLES: dict[str, str] = {
    "orders": """
        order_id TEXT PRIMARY KEY, dealer_id TEXT NOT NULL, client_ref TEXT NOT NULL,
        order_date TEXT NOT NULL, region TEXT NOT NULL, ship_to_region TEXT NOT NULL,
        salesperson TEXT NOT NULL, payment TEXT NOT NULL, status TEXT NOT NULL,
        total_cents BIGINT NOT NULL, paid_cents BIGINT NOT NULL, returned_cents BIGINT NOT NULL,
        needs_approval INTEGER NOT NULL, confirmed_on TEXT, shipped_on TEXT, delivered_on TEXT,
        position BIGINT NOT NULL""",
    "order_lines": """
        order_id TEXT NOT NULL, line_no INTEGER NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL,
        qty INTEGER NOT NULL, unit_price TEXT NOT NULL, amount_cents BIGINT NOT NULL,
        PRIMARY KEY (order_id, line_no)""",
    # O5: net sales facts, + delivered / − returned, by business date.
    "sales": """
        position BIGINT PRIMARY KEY, kind TEXT NOT NULL, order_id TEXT NOT NULL,
        dealer_id TEXT NOT NULL, region TEXT NOT NULL, salesperson TEXT NOT NULL,
        order_date TEXT NOT NULL, business_date TEXT NOT NULL, value_cents BIGINT NOT NULL,
        lines TEXT""",
}

INDEXES: dict[str, str] = {
    "sales_by_date": "sales (business_date)",
    "sales_by_dealer": "sales (dealer_id, business_date)",
    "orders_by_dealer": "orders (dealer_id)",
}


ORDER_COLUMNS = columns_of(TABLES["orders"])
LINE_COLUMNS = columns_of(TABLES["order_lines"])
SALE_COLUMNS = columns_of(TABLES["sales"])
_ORDER_NAMES = tuple(name for name, _ in ORDER_COLUMNS)


class OrderRows(Gatherer):
    """The orders a run of Order events touches: those placed in it, and the others read at once
    before it; then written by one statement per table (new orders, changed orders as an upsert,
    lines, sales)."""

    # Its handlers write orders, their lines and sales: what the memo keeps of a dealer (its
    # region and owner history) only the dealers' family writes.
    keeps_memo = True

    def __init__(self, db: Db, run: Sequence[EventRecord], memo: dict[Any, Any] | None) -> None:
        self.db = db
        placed = [r for r in run if r.kind == "Order.Placed"]
        new_ids = {r.aggregate_id for r in placed}
        earlier = {r.aggregate_id for r in run} - new_ids
        self.orders: dict[str, dict[str, Any]] = {
            row["order_id"]: dict(row) for row in db.rows_where("orders", "order_id", sorted(earlier))
        }
        self.new: list[str] = []
        self.changed: set[str] = set()
        self.lines: list[tuple[Any, ...]] = []
        self.sales: list[tuple[Any, ...]] = []
        # Each placing dealer's region (None without a dealer row) and owner history (D8).
        self.dealers = _dealers(db, {str(r.data["dealer_id"]) for r in placed}, memo)

    def place(self, order_id: str, row: dict[str, Any], lines: list[tuple[Any, ...]]) -> None:
        if order_id in self.orders:
            # As the primary key refuses a second row of the order.
            raise ValueError(f"order {order_id} is placed twice")
        self.orders[order_id] = row
        self.new.append(order_id)
        self.lines += lines

    def order(self, order_id: str) -> dict[str, Any] | None:
        """The order to change (None if the read model has no such order: nothing changes, as
        an UPDATE of no row)."""
        row = self.orders.get(order_id)
        if row is not None:
            self.changed.add(order_id)
        return row

    def sale(self, r: EventRecord, kind: str, on: str, value: int, lines: Any) -> None:
        """O5: the net-sales fact, with the order's dealer, region and salesperson (D8)."""
        row = self.orders.get(r.aggregate_id)
        if row is None:
            return
        self.sales.append((
            r.position, kind, row["order_id"], row["dealer_id"], row["region"], row["salesperson"],
            row["order_date"], on, value, None if lines is None else to_json(lines),
        ))

    def write(self) -> None:
        db = self.db
        new = set(self.new)
        if self.new:
            db.insert_rows("orders", ORDER_COLUMNS,
                           [[self.orders[i][c] for c in _ORDER_NAMES] for i in self.new])
        changed = sorted(self.changed - new)
        if changed:
            db.insert_rows("orders", ORDER_COLUMNS,
                           [[self.orders[i][c] for c in _ORDER_NAMES] for i in changed],
                           key=("order_id",))
        if self.lines:
            db.insert_rows("order_lines", LINE_COLUMNS, self.lines)
        if self.sales:
            db.insert_rows("sales", SALE_COLUMNS, self.sales)


def _dealers(db: Db, dealer_ids: set[str], memo: dict[Any, Any] | None,
             ) -> dict[str, tuple[str | None, list[tuple[str, int, str]]]]:
    """Each dealer's region (None without a dealer row) and owner history, from the memo where it
    has them, else read (two statements for them all) and kept there."""
    known: dict[str, tuple[str | None, list[tuple[str, int, str]]]] = (
        memo.setdefault("order_dealers", {}) if memo is not None else {})
    missing = sorted(dealer_ids - known.keys())
    if missing:
        regions = {row["dealer_id"]: row["region"]
                   for row in db.rows_where("dealers", "dealer_id", missing, "dealer_id, region")}
        owners = owner_histories(db, missing)
        for dealer_id in missing:
            known[dealer_id] = (regions.get(dealer_id), owners.get(dealer_id, []))
    return {dealer_id: known[dealer_id] for dealer_id in dealer_ids}


@handles("Order.Placed", gatherer=OrderRows)
def _placed(rows: OrderRows, r: EventRecord) -> None:
    d = r.data
    dealer_id = str(d["dealer_id"])
    order_date = day(d["order_date"]).isoformat()
    region, owners = rows.dealers[dealer_id]
    row = {
        "order_id": r.aggregate_id, "dealer_id": dealer_id, "client_ref": d["client_ref"],
        "order_date": order_date, "region": d["ship_to_region"] if region is None else region,
        "ship_to_region": d["ship_to_region"],
        "salesperson": owner_on(owners, order_date),
        "payment": d["payment"], "status": "awaiting_approval", "total_cents": cents(d["total"]),
        "paid_cents": 0, "returned_cents": 0, "needs_approval": 1 if d["approvals"] else 0,
        "confirmed_on": None, "shipped_on": None, "delivered_on": None, "position": r.position,
    }
    lines = [
        (r.aggregate_id, i + 1, line.sku, line.name, line.qty, str(line.unit_price), cents(line.amount))
        for i, line in enumerate(d["lines"])
    ]
    rows.place(r.aggregate_id, row, lines)


def _set_status(rows: OrderRows, order_id: str, status: str, column: str | None = None,
                value: Any = None) -> None:
    order = rows.order(order_id)
    if order is not None:
        order["status"] = status
        if column is not None:
            order[column] = value


@handles("Order.Confirmed", gatherer=OrderRows)
def _confirmed(rows: OrderRows, r: EventRecord) -> None:
    _set_status(rows, r.aggregate_id, "confirmed", "confirmed_on", day(r.data["confirmed_on"]).isoformat())


@handles("Order.Rejected", gatherer=OrderRows)
def _rejected(rows: OrderRows, r: EventRecord) -> None:
    _set_status(rows, r.aggregate_id, "rejected")


@handles("Order.Cancelled", gatherer=OrderRows)
def _cancelled(rows: OrderRows, r: EventRecord) -> None:
    _set_status(rows, r.aggregate_id, "cancelled")


@handles("Order.Shipped", gatherer=OrderRows)
def _shipped(rows: OrderRows, r: EventRecord) -> None:
    _set_status(rows, r.aggregate_id, "shipped", "shipped_on", day(r.data["shipped_on"]).isoformat())


# As the Order aggregate does: a delivered order with nothing outstanding is paid.


def _outstanding(order: dict[str, Any]) -> int:
    return int(order["total_cents"]) - int(order["returned_cents"]) - int(order["paid_cents"])


@handles("Order.Delivered", gatherer=OrderRows)
def _delivered(rows: OrderRows, r: EventRecord) -> None:
    on = day(r.data["delivered_on"]).isoformat()
    order = rows.order(r.aggregate_id)
    if order is not None:
        order["delivered_on"] = on
        order["status"] = "paid" if _outstanding(order) <= 0 else "delivered"
    rows.sale(r, "delivery", on, cents(r.data["value"]), None)


def _settle(rows: OrderRows, order_id: str, column: str, amount: int) -> None:
    """Add `amount` to `column` (paid_cents or returned_cents); a delivered order left with
    nothing outstanding is paid."""
    order = rows.order(order_id)
    if order is None:
        return
    order[column] = int(order[column]) + amount
    if order["status"] == "delivered" and _outstanding(order) <= 0:
        order["status"] = "paid"


@handles("Order.PaymentRecorded", gatherer=OrderRows)
def _paid(rows: OrderRows, r: EventRecord) -> None:
    _settle(rows, r.aggregate_id, "paid_cents", cents(r.data["amount"]))


@handles("Order.Returned", gatherer=OrderRows)
def _returned(rows: OrderRows, r: EventRecord) -> None:
    value = cents(r.data["value"])
    _settle(rows, r.aggregate_id, "returned_cents", value)
    lines = [
        {
            "sku": x.sku,
            "qty": x.qty,
            "unit_price": str(x.unit_price),
            "amount": str(x.amount),
        }
        for x in r.data["lines"]
    ]
    rows.sale(r, "return", day(r.data["returned_on"]).isoformat(), -value, lines)
