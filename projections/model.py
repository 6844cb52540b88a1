"""What each event does to the read-model tables. Pure facts, no business numbers: rates and
thresholds are applied by the queries and the close's process manager, from the policy versions
the log records (projected here like any other event)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.records import EventRecord, cents, day, dec, from_json, to_json
from projections.sql import Db

Handler = Callable[[Db, EventRecord], None]
HANDLERS: dict[str, Handler] = {}

# Events that carry no figure the read model shows (credit, roster, prices) are tracked only.


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def apply(db: Db, record: EventRecord) -> None:
    handler = HANDLERS.get(record.kind)
    if handler is not None:
        handler(db, record)


# D8: the salesperson who owned the dealer on a day (the first owner before it), as an SQL
# expression with the parameters (dealer_id, day, dealer_id): the statements that need it run
# without a round trip of their own (the view's pipeline sends them without waiting).
OWNER_ON = (
    "COALESCE((SELECT o.salesperson FROM @dealer_owners o WHERE o.dealer_id = ? "
    "AND o.effective_on <= ? ORDER BY o.effective_on DESC, o.position DESC LIMIT 1), "
    "(SELECT o.salesperson FROM @dealer_owners o WHERE o.dealer_id = ? ORDER BY o.position LIMIT 1), '')"
)


def _progress(db: Db, r: EventRecord, kind: str, dealer_id: str, on: str) -> None:
    db.execute(
        "INSERT INTO @progress (position, kind, dealer_id, salesperson, on_date) "
        f"VALUES (?, ?, ?, {OWNER_ON}, ?)",
        (r.position, kind, dealer_id, dealer_id, on, dealer_id, on),
    )


# --- dealers ---------------------------------------------------------------------------------


@handles("Dealer.Registered")
def _registered(db: Db, r: EventRecord) -> None:
    d = r.data
    on = day(d["registered_on"]).isoformat()
    db.execute(
        "INSERT INTO @dealers (dealer_id, name, region, contact, tier, salesperson, status, "
        "registered_on, registered_position) VALUES (?, ?, ?, ?, ?, ?, 'registered', ?, ?)",
        (r.aggregate_id, d["name"], d["region"], d["contact"], d["tier"], d["salesperson"], on, r.position),
    )
    db.execute(
        "INSERT INTO @dealer_tiers (dealer_id, position, effective_on, tier) VALUES (?, ?, ?, ?)",
        (r.aggregate_id, r.position, on, d["tier"]),
    )
    db.execute(
        "INSERT INTO @dealer_owners (dealer_id, position, effective_on, salesperson) VALUES (?, ?, ?, ?)",
        (r.aggregate_id, r.position, on, d["salesperson"]),
    )
    _progress(db, r, "registration", r.aggregate_id, on)


@handles("Dealer.DraftAgreementSigned")
def _draft(db: Db, r: EventRecord) -> None:
    on = day(r.data["signed_on"]).isoformat()
    db.execute(
        "UPDATE @dealers SET status = 'draft_signed', draft_signed_on = ? WHERE dealer_id = ?",
        (on, r.aggregate_id),
    )
    _progress(db, r, "draft_agreement", r.aggregate_id, on)


@handles("Dealer.ForecastSubmitted")
def _forecast(db: Db, r: EventRecord) -> None:
    for item in r.data["months"]:
        db.execute(
            "DELETE FROM @forecasts WHERE dealer_id = ? AND month = ?", (r.aggregate_id, item["month"])
        )
        db.execute(
            "INSERT INTO @forecasts (dealer_id, month, amount, position) VALUES (?, ?, ?, ?)",
            (r.aggregate_id, item["month"], str(dec(item["amount"])), r.position),
        )
    db.execute(
        "UPDATE @dealers SET status = 'forecast_submitted' WHERE dealer_id = ? AND status = 'draft_signed'",
        (r.aggregate_id,),
    )


@handles("Dealer.FormalAgreementSigned")
def _formal(db: Db, r: EventRecord) -> None:
    d = r.data
    on = day(d["signed_on"]).isoformat()
    db.execute(
        "UPDATE @dealers SET status = 'signed', agreement_signed_on = ?, agreement_position = ?, "
        "monthly_amount = ?, term_months = ? WHERE dealer_id = ?",
        (on, r.position, str(dec(d["monthly_amount"])), int(d["term_months"]), r.aggregate_id),
    )
    _progress(db, r, "formal_agreement", r.aggregate_id, on)


@handles("Dealer.AgreementTookEffect")
def _took_effect(db: Db, r: EventRecord) -> None:
    order_id = str(r.data["order_id"])
    db.execute(
        "UPDATE @dealers SET status = 'active', start_month = ?, first_order_id = ? WHERE dealer_id = ?",
        (r.data["start_month"], order_id, r.aggregate_id),
    )
    order = db.one("SELECT order_date, confirmed_on FROM @orders WHERE order_id = ?", (order_id,))
    on = (order["confirmed_on"] or order["order_date"]) if order else f"{r.data['start_month']}-01"
    _progress(db, r, "first_order", r.aggregate_id, on)


@handles("Dealer.TierChanged")
def _tier_changed(db: Db, r: EventRecord) -> None:
    db.execute(
        "INSERT INTO @dealer_tiers (dealer_id, position, effective_on, tier) VALUES (?, ?, ?, ?)",
        (r.aggregate_id, r.position, day(r.data["effective_on"]).isoformat(), r.data["tier"]),
    )
    db.execute("UPDATE @dealers SET tier = ? WHERE dealer_id = ?", (r.data["tier"], r.aggregate_id))


@handles("Dealer.Reassigned")
def _reassigned(db: Db, r: EventRecord) -> None:
    """D8: sales count for the owner on the order's date, so orders dated from the reassignment on
    move to the new salesperson (reassignments only move forward in time, see Dealer.reassign)."""
    on = day(r.data["effective_on"]).isoformat()
    salesperson = r.data["salesperson"]
    db.execute(
        "INSERT INTO @dealer_owners (dealer_id, position, effective_on, salesperson) VALUES (?, ?, ?, ?)",
        (r.aggregate_id, r.position, on, salesperson),
    )
    db.execute("UPDATE @dealers SET salesperson = ? WHERE dealer_id = ?", (salesperson, r.aggregate_id))
    for table, column in (("orders", "order_date"), ("sales", "order_date"), ("progress", "on_date")):
        db.execute(
            f"UPDATE @{table} SET salesperson = ? WHERE dealer_id = ? AND {column} >= ?",
            (salesperson, r.aggregate_id, on),
        )


@handles("Dealer.Terminated")
def _terminated(db: Db, r: EventRecord) -> None:
    db.execute(
        "UPDATE @dealers SET status = 'terminated', terminated_on = ?, terminated_position = ? "
        "WHERE dealer_id = ?",
        (day(r.data["terminated_on"]).isoformat(), r.position, r.aggregate_id),
    )


@handles("Dealer.RepairCentreAuthorized")
def _repair_centre(db: Db, r: EventRecord) -> None:
    db.execute(
        "UPDATE @dealers SET repair_centre_since = ? WHERE dealer_id = ?",
        (day(r.data["signed_on"]).isoformat(), r.aggregate_id),
    )


# --- orders ------------------------------------------------------------------------------------


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
                line["sku"],
                line.get("name", ""),
                int(line["qty"]),
                str(dec(line["unit_price"])),
                cents(line["amount"]),
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


@handles("Order.PaymentRecorded")
def _paid(db: Db, r: EventRecord) -> None:
    amount = cents(r.data["amount"])
    db.execute(
        "UPDATE @orders SET paid_cents = paid_cents + ?, status = CASE WHEN status = 'delivered' "
        "AND total_cents - returned_cents - paid_cents - ? <= 0 THEN 'paid' ELSE status END "
        "WHERE order_id = ?",
        (amount, amount, r.aggregate_id),
    )


@handles("Order.Returned")
def _returned(db: Db, r: EventRecord) -> None:
    value = cents(r.data["value"])
    db.execute(
        "UPDATE @orders SET returned_cents = returned_cents + ?, status = CASE WHEN "
        "status = 'delivered' AND total_cents - returned_cents - ? - paid_cents <= 0 "
        "THEN 'paid' ELSE status END WHERE order_id = ?",
        (value, value, r.aggregate_id),
    )
    lines = [
        {
            "sku": x["sku"],
            "qty": int(x["qty"]),
            "unit_price": str(dec(x["unit_price"])),
            "amount": str(dec(x["amount"])),
        }
        for x in r.data["lines"]
    ]
    _sale(db, r, "return", day(r.data["returned_on"]).isoformat(), -value, lines)


# --- spare parts ----------------------------------------------------------------------------------


@handles("SparePartsPool.Opened")
def _pool_opened(db: Db, r: EventRecord) -> None:
    db.execute(
        "INSERT INTO @pools (pool, aggregate_id, region, opened_on, opened_position) VALUES (?, ?, ?, ?, ?)",
        (r.data["pool"], r.aggregate_id, r.data["region"], day(r.data["opened_on"]).isoformat(), r.position),
    )


def _pool_name(db: Db, aggregate_id: str) -> str:
    return str(db.scalar("SELECT pool FROM @pools WHERE aggregate_id = ?", (aggregate_id,)))


@handles("SparePartsPool.Allocated")
def _allocated(db: Db, r: EventRecord) -> None:
    d = r.data
    db.execute(
        "INSERT INTO @allocations (pool, month, basis, amount_cents, policy_version, position) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            _pool_name(db, r.aggregate_id),
            d["month"],
            str(dec(d["basis"])),
            cents(d["amount"]),
            d["policy_version"],
            r.position,
        ),
    )


@handles("SparePartsPool.Drawn")
def _drawn(db: Db, r: EventRecord) -> None:
    d = r.data
    db.execute(
        "INSERT INTO @draws (position, pool, drawn_on, part, qty, value) VALUES (?, ?, ?, ?, ?, ?)",
        (
            r.position,
            _pool_name(db, r.aggregate_id),
            day(d["drawn_on"]).isoformat(),
            d["part"],
            int(d["qty"]),
            str(dec(d["value"])),
        ),
    )


@handles("SparePartsPool.Closed")
def _pool_closed(db: Db, r: EventRecord) -> None:
    db.execute(
        "UPDATE @pools SET closed_on = ?, closed_position = ? WHERE aggregate_id = ?",
        (day(r.data["closed_on"]).isoformat(), r.position, r.aggregate_id),
    )


# --- policy (R4) -------------------------------------------------------------------------------------


@handles("Policy.VersionPublished")
def _policy_published(db: Db, r: EventRecord) -> None:
    d = r.data
    on = day(d["effective_from"]).isoformat()
    db.execute("DELETE FROM @policy_versions WHERE effective_from = ?", (on,))
    db.execute(
        "INSERT INTO @policy_versions (effective_from, version_id, number, terms, note, position) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (on, d["version_id"], int(d["number"]), to_json(d["terms"]), d["note"], r.position),
    )


# --- periods and rebate slips ---------------------------------------------------------------------


@handles("AccountingCalendar.MonthClosed")
def _month_closed(db: Db, r: EventRecord) -> None:
    # A consumer that receives the close more than once (one copy per Kafka partition) keeps one.
    month = r.data["month"]
    if db.one("SELECT month FROM @closes WHERE month = ?", (month,)) is not None:
        return
    db.execute(
        "INSERT INTO @closes (month, closed_on, position) VALUES (?, ?, ?)",
        (month, day(r.data["closed_on"]).isoformat(), r.position),
    )
    db.execute("INSERT INTO @followups (month, close_position) VALUES (?, ?)", (month, r.position))


@handles("RebateSlip.Issued")
def _slip_issued(db: Db, r: EventRecord) -> None:
    d = r.data
    lines = [dict(line) for line in d["lines"]]
    db.execute(
        "INSERT INTO @slips (slip_id, dealer_id, period, status, issued_on, close_position, lines, "
        "disputes, position) VALUES (?, ?, ?, 'issued', ?, ?, ?, '[]', ?)",
        (
            r.aggregate_id,
            d["dealer_id"],
            d["period"],
            day(d["issued_on"]).isoformat(),
            int(d["close_position"]),
            to_json(lines),
            r.position,
        ),
    )
    for line in lines:
        if line["kind"] == "correction":
            continue  # booked when the dispute was resolved; the slip only reports it
        db.execute(
            "INSERT INTO @rebate_entries (entry_id, dealer_id, period, kind, basis_cents, rate, "
            "amount_cents, policy_version, tier, threshold, detail, slip_id, position) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f"{r.aggregate_id}:{line['line']}",
                d["dealer_id"],
                line["period"],
                line["kind"],
                cents(line["basis"]),
                str(dec(line["rate"])),
                cents(line["amount"]),
                line["policy_version"],
                line.get("tier"),
                None if line.get("threshold") is None else str(dec(line["threshold"])),
                to_json({k: v for k, v in line.items() if k not in _ENTRY_COLUMNS}),
                r.aggregate_id,
                r.position,
            ),
        )


_ENTRY_COLUMNS = frozenset(
    {"line", "kind", "period", "basis", "rate", "amount", "policy_version", "tier", "threshold"}
)


@handles("RebateSlip.Confirmed")
def _slip_confirmed(db: Db, r: EventRecord) -> None:
    db.execute(
        "UPDATE @slips SET status = 'confirmed', confirmed_on = ? WHERE slip_id = ?",
        (day(r.data["confirmed_on"]).isoformat(), r.aggregate_id),
    )


def _disputes(db: Db, slip_id: str) -> tuple[str, list[dict[str, Any]]]:
    row = db.one("SELECT dealer_id, disputes FROM @slips WHERE slip_id = ?", (slip_id,))
    return str(row["dealer_id"]), list(from_json(row["disputes"]) or [])


@handles("RebateSlip.Disputed")
def _slip_disputed(db: Db, r: EventRecord) -> None:
    _, disputes = _disputes(db, r.aggregate_id)
    disputes.append(
        {
            "dispute": int(r.data["dispute"]),
            "lines": [{"line": int(x["line"]), "reason": x["reason"]} for x in r.data["lines"]],
            "disputed_on": day(r.data["disputed_on"]).isoformat(),
            "resolution": None,
        }
    )
    db.execute(
        "UPDATE @slips SET status = 'disputed', disputes = ? WHERE slip_id = ?",
        (to_json(disputes), r.aggregate_id),
    )


@handles("RebateSlip.DisputeResolved")
def _slip_resolved(db: Db, r: EventRecord) -> None:
    d = r.data
    dealer_id, disputes = _disputes(db, r.aggregate_id)
    amount = None if d["amount"] is None else dec(d["amount"])
    for item in disputes:
        if item["dispute"] == int(d["dispute"]):
            item["resolution"] = {
                "accept": bool(d["accept"]),
                "amount": amount,
                "note": d["note"],
                "resolved_on": day(d["resolved_on"]).isoformat(),
                "period": d["period"],
            }
    status = "disputed" if any(x["resolution"] is None for x in disputes) else "resolved"
    db.execute(
        "UPDATE @slips SET status = ?, disputes = ? WHERE slip_id = ?",
        (status, to_json(disputes), r.aggregate_id),
    )
    if d["accept"] and amount is not None:
        # R6: the correction is a new entry in the open period; the posted entry stays as it was.
        db.execute(
            "INSERT INTO @rebate_entries (entry_id, dealer_id, period, kind, basis_cents, rate, "
            "amount_cents, policy_version, tier, threshold, detail, slip_id, position) "
            "VALUES (?, ?, ?, 'correction', NULL, NULL, ?, ?, NULL, NULL, ?, ?, ?)",
            (
                f"{r.aggregate_id}:d{d['dispute']}",
                dealer_id,
                d["period"],
                cents(amount),
                d["policy_version"],
                to_json({"dispute": int(d["dispute"]), "note": d["note"]}),
                r.aggregate_id,
                r.position,
            ),
        )
