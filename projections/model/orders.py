"""The orders family's tables and handlers: orders and their lines (O1, O3), and the net-sales facts
(O5: + delivered, − returned, by business date) with the dealer, region and owner (D8)."""

from __future__ import annotations

from typing import Any

from infra.sql import Db
from projections.model.base import handles
from projections.model.dealers import OWNER_ON
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


@handles("Order.Placed")
def _placed(db: Db, r: EventRecord) -> None:
    d = r.data
    dealer_id = str(d["dealer_id"])
    order_date = day(d["order_date"]).isoformat()
    db.execute(
        "INSERT INTO @orders (order_id, dealer_id, client_ref, order_date, region, ship_to_region, "
        "salesperson, payment, status, total_cents, paid_cents, returned_cents, needs_approval, "
        "position) VALUES (?, ?, ?, ?, COALESCE((SELECT d.region FROM @dealers d WHERE d.dealer_id = ?), ?), "
        f"?, {OWNER_ON}, ?, 'awaiting_approval', ?, 0, 0, ?, ?)",
        (
            r.aggregate_id,
            dealer_id,
            d["client_ref"],
            order_date,
            dealer_id,
            d["ship_to_region"],
            d["ship_to_region"],
            dealer_id,
            order_date,
            dealer_id,
            d["payment"],
            cents(d["total"]),
            1 if d["approvals"] else 0,
            r.position,
        ),
    )
    db.executemany(
        "INSERT INTO @order_lines (order_id, line_no, sku, name, qty, unit_price, amount_cents) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                r.aggregate_id,
                i + 1,
                line.sku,
                line.name,
                line.qty,
                str(line.unit_price),
                cents(line.amount),
            )
            for i, line in enumerate(d["lines"])
        ],
    )


def _set_status(db: Db, order_id: str, status: str, column: str | None = None, value: Any = None) -> None:
    if column is None:
        db.execute("UPDATE @orders SET status = ? WHERE order_id = ?", (status, order_id))
    else:
        db.execute(
            f"UPDATE @orders SET status = ?, {column} = ? WHERE order_id = ?", (status, value, order_id)
        )


@handles("Order.Confirmed")
def _confirmed(db: Db, r: EventRecord) -> None:
    _set_status(db, r.aggregate_id, "confirmed", "confirmed_on", day(r.data["confirmed_on"]).isoformat())


@handles("Order.Rejected")
def _rejected(db: Db, r: EventRecord) -> None:
    _set_status(db, r.aggregate_id, "rejected")


@handles("Order.Cancelled")
def _cancelled(db: Db, r: EventRecord) -> None:
    _set_status(db, r.aggregate_id, "cancelled")


@handles("Order.Shipped")
def _shipped(db: Db, r: EventRecord) -> None:
    _set_status(db, r.aggregate_id, "shipped", "shipped_on", day(r.data["shipped_on"]).isoformat())


# As the Order aggregate does: a delivered order with nothing outstanding is paid (one statement
# per event; SET sees the row's old values).


def _sale(db: Db, r: EventRecord, kind: str, on: str, value: int, lines: Any) -> None:
    """O5: the net-sales fact, with the order's dealer, region and salesperson (D8)."""
    db.execute(
        "INSERT INTO @sales (position, kind, order_id, dealer_id, region, salesperson, "
        "order_date, business_date, value_cents, lines) SELECT ?, ?, order_id, dealer_id, region, "
        "salesperson, order_date, ?, ?, ? FROM @orders WHERE order_id = ?",
        (r.position, kind, on, value, None if lines is None else to_json(lines), r.aggregate_id),
    )


@handles("Order.Delivered")
def _delivered(db: Db, r: EventRecord) -> None:
    on = day(r.data["delivered_on"]).isoformat()
    db.execute(
        "UPDATE @orders SET delivered_on = ?, status = CASE WHEN "
        "total_cents - returned_cents - paid_cents <= 0 THEN 'paid' ELSE 'delivered' END "
        "WHERE order_id = ?",
        (on, r.aggregate_id),
    )
    _sale(db, r, "delivery", on, cents(r.data["value"]), None)


def _settle(db: Db, order_id: str, column: str, amount: int) -> None:
    """Add `amount` to `column` (paid_cents or returned_cents); a delivered order left with
    nothing outstanding is paid."""
    db.execute(
        f"UPDATE @orders SET {column} = {column} + ?, status = CASE WHEN status = 'delivered' "
        "AND total_cents - returned_cents - paid_cents - ? <= 0 THEN 'paid' ELSE status END "
        "WHERE order_id = ?",
        (amount, amount, order_id),
    )


@handles("Order.PaymentRecorded")
def _paid(db: Db, r: EventRecord) -> None:
    _settle(db, r.aggregate_id, "paid_cents", cents(r.data["amount"]))


@handles("Order.Returned")
def _returned(db: Db, r: EventRecord) -> None:
    value = cents(r.data["value"])
    _settle(db, r.aggregate_id, "returned_cents", value)
    lines = [
        {
            "sku": x.sku,
            "qty": x.qty,
            "unit_price": str(x.unit_price),
            "amount": str(x.amount),
        }
        for x in r.data["lines"]
    ]
    _sale(db, r, "return", day(r.data["returned_on"]).isoformat(), -value, lines)
