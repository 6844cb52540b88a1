"""The dealers family's tables and handlers: dealer rows (D1, D2, D3, D7), histories of tier (D6,
R4) and owner (D8) with their log positions, forecasts, each salesperson's channel progress (K1)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from infra.sql import Db
from projections.model.base import handles
from projections.records import EventRecord, day, dec

TABLES: dict[str, str] = {
    "dealers": """
        dealer_id TEXT PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL,
        contact TEXT NOT NULL, tier TEXT NOT NULL, salesperson TEXT NOT NULL,
        status TEXT NOT NULL, registered_on TEXT NOT NULL, registered_position BIGINT NOT NULL,
        draft_signed_on TEXT, agreement_signed_on TEXT, agreement_position BIGINT,
        monthly_amount TEXT, term_months INTEGER, start_month TEXT, first_order_id TEXT,
        repair_centre_since TEXT, terminated_on TEXT, terminated_position BIGINT""",
    # R4: the tier on a date; D8: the owner on a date. One row per change, in log order.
    "dealer_tiers": """
        dealer_id TEXT NOT NULL, position BIGINT NOT NULL, effective_on TEXT NOT NULL,
        tier TEXT NOT NULL, PRIMARY KEY (dealer_id, position)""",
    "dealer_owners": """
        dealer_id TEXT NOT NULL, position BIGINT NOT NULL, effective_on TEXT NOT NULL,
        salesperson TEXT NOT NULL, PRIMARY KEY (dealer_id, position)""",
    "forecasts": """
        dealer_id TEXT NOT NULL, month TEXT NOT NULL, amount TEXT NOT NULL,
        position BIGINT NOT NULL, PRIMARY KEY (dealer_id, month)""",
    # K1 channel progress: registrations, draft and formal agreements, first orders.
    "progress": """
        position BIGINT NOT NULL, kind TEXT NOT NULL, dealer_id TEXT NOT NULL,
        salesperson TEXT NOT NULL, on_date TEXT NOT NULL, PRIMARY KEY (position, kind)""",
}


# D8: the salesperson who owned the dealer on a day (the first owner before it), as an SQL
# expression with the parameters (dealer_id, day, dealer_id): the statements that need it run
# without a round trip of their own (the view's pipeline sends them without waiting).
OWNER_ON = (
    "COALESCE((SELECT o.salesperson FROM @dealer_owners o WHERE o.dealer_id = ? "
    "AND o.effective_on <= ? ORDER BY o.effective_on DESC, o.position DESC LIMIT 1), "
    "(SELECT o.salesperson FROM @dealer_owners o WHERE o.dealer_id = ? ORDER BY o.position LIMIT 1), '')"
)


def owner_on(history: Sequence[tuple[str, int, str]], on: str) -> str:
    """D8 as `OWNER_ON` computes it, over a dealer's owner history already read: rows of
    (effective_on, position, salesperson)."""
    if not history:
        return ""
    known = [h for h in history if h[0] <= on]
    if known:
        return max(known, key=lambda h: (h[0], h[1]))[2]
    return min(history, key=lambda h: h[1])[2]


def owner_histories(db: Db, dealer_ids: Iterable[str]) -> dict[str, list[tuple[str, int, str]]]:
    """Each dealer's owner history (for `owner_on`), read in one statement."""
    histories: dict[str, list[tuple[str, int, str]]] = {}
    for row in db.rows_where("dealer_owners", "dealer_id", sorted(set(dealer_ids)),
                             "dealer_id, effective_on, position, salesperson"):
        histories.setdefault(row["dealer_id"], []).append(
            (row["effective_on"], int(row["position"]), row["salesperson"]))
    return histories


def _progress(db: Db, r: EventRecord, kind: str, dealer_id: str, on: str) -> None:
    db.execute(
        "INSERT INTO @progress (position, kind, dealer_id, salesperson, on_date) "
        f"VALUES (?, ?, ?, {OWNER_ON}, ?)",
        (r.position, kind, dealer_id, dealer_id, on, dealer_id, on),
    )


def _dated(db: Db, r: EventRecord, table: str, column: str, on: str, value: str) -> None:
    """A change in the dealer's history of tier (R4) or owner (D8), effective `on`, kept with the
    event's log position so that a figure can be read as known at a position."""
    db.execute(
        f"INSERT INTO @{table} (dealer_id, position, effective_on, {column}) VALUES (?, ?, ?, ?)",
        (r.aggregate_id, r.position, on, value),
    )


@handles("Dealer.Registered")
def _registered(db: Db, r: EventRecord) -> None:
    d = r.data
    on = day(d["registered_on"]).isoformat()
    db.execute(
        "INSERT INTO @dealers (dealer_id, name, region, contact, tier, salesperson, status, "
        "registered_on, registered_position) VALUES (?, ?, ?, ?, ?, ?, 'registered', ?, ?)",
        (r.aggregate_id, d["name"], d["region"], d["contact"], d["tier"], d["salesperson"], on, r.position),
    )
    _dated(db, r, "dealer_tiers", "tier", on, d["tier"])
    _dated(db, r, "dealer_owners", "salesperson", on, d["salesperson"])
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
            "DELETE FROM @forecasts WHERE dealer_id = ? AND month = ?", (r.aggregate_id, item.month)
        )
        db.execute(
            "INSERT INTO @forecasts (dealer_id, month, amount, position) VALUES (?, ?, ?, ?)",
            (r.aggregate_id, item.month, str(item.amount), r.position),
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
    _dated(db, r, "dealer_tiers", "tier", day(r.data["effective_on"]).isoformat(), r.data["tier"])
    db.execute("UPDATE @dealers SET tier = ? WHERE dealer_id = ?", (r.data["tier"], r.aggregate_id))


@handles("Dealer.Reassigned")
def _reassigned(db: Db, r: EventRecord) -> None:
    """D8: sales count for the owner on the order's date, so orders dated from the reassignment on
    move to the new salesperson (reassignments only move forward in time, see Dealer.reassign)."""
    on = day(r.data["effective_on"]).isoformat()
    salesperson = r.data["salesperson"]
    _dated(db, r, "dealer_owners", "salesperson", on, salesperson)
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
