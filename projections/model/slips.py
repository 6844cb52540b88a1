"""The rebates and slips family's tables and handlers: the confirmation slips (R5) with their disputes
(R6), and the posted entries (R2 monthly, R3 quarterly, R6 corrections) with what explains them (R7)."""

from __future__ import annotations

from typing import Any

from infra.sql import Db
from projections.model.base import handles
from projections.records import EventRecord, cents, day, dec, from_json, to_json

# Accruals are not stored: the queries compute them (projections.queries.rebates).
TABLES: dict[str, str] = {
    "slips": """
        slip_id TEXT PRIMARY KEY, dealer_id TEXT NOT NULL, period TEXT NOT NULL,
        status TEXT NOT NULL, issued_on TEXT NOT NULL, close_position BIGINT NOT NULL,
        lines TEXT NOT NULL, disputes TEXT NOT NULL, confirmed_on TEXT, position BIGINT NOT NULL""",
    # R5/R6: posted entries (from issued slips) and corrections (from accepted disputes).
    "rebate_entries": """
        entry_id TEXT PRIMARY KEY, dealer_id TEXT NOT NULL, period TEXT NOT NULL,
        kind TEXT NOT NULL, basis_cents BIGINT, rate TEXT, amount_cents BIGINT NOT NULL,
        policy_version TEXT NOT NULL, tier TEXT, threshold TEXT, detail TEXT,
        slip_id TEXT NOT NULL, position BIGINT NOT NULL""",
}

INDEXES: dict[str, str] = {
    "entries_by_period": "rebate_entries (period, dealer_id)",
    "slips_by_dealer": "slips (dealer_id, period)",
}


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
            "lines": [{"line": x.line, "reason": x.reason} for x in r.data["lines"]],
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
