"""A rebate line as the read side shows it (R5, R7): a ledger entry, posted or accrued, and the
sentence that explains it, rendered from the line's figures wherever a line is shown."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.rebates import RebateLine, distance
from domain.values import money
from projections.records import from_cents, from_json


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _money(value: Any) -> Decimal | None:
    # Shown to the cent wherever the line comes from (a slip keeps "300000", a ledger 300000.00).
    found = _dec(value)
    return None if found is None else money(found)


# Events carry figures only; slips issued before that still hold a `why` of their own, which
# only serves here as the note of an old correction.
def rebate_why(line: Mapping[str, Any]) -> str:
    """Why a monthly (R2), quarterly (R3) or correction (R6) line is what it is."""
    kind = line.get("kind")
    if kind == "correction":
        note = line.get("note", line.get("why")) or ""
        dispute = line.get("dispute")
        head = f"dispute {dispute} accepted (R6)" if dispute is not None else "correction (R6)"
        return f"{head}: {note}" if note else head
    basis = _money(line.get("basis"))
    threshold = _money(line.get("threshold"))
    rate = _dec(line.get("rate"))
    tier = line.get("tier")
    if basis is None:
        return ""
    if kind == "monthly":
        if threshold is None:
            return "no agreed monthly amount (no formal agreement)"
        if line.get("reached"):
            return f"net sales {basis} reach the agreed {threshold}: tier {tier} rate {rate}"
        if basis <= 0:
            return f"net sales {basis} are not positive: no rebate (R4)"
        return f"net sales {basis} stay below the agreed {threshold}"
    if line.get("reached") and threshold is not None:
        return f"net sales {basis} reach the tier-{tier} threshold {threshold}: rate {rate}"
    if basis <= 0:
        return f"net sales {basis} are not positive: no rebate (R4)"
    lowest = _money(line.get("next_threshold"))
    return f"net sales {basis} stay below the lowest tier-{tier} threshold" + (
        f" {lowest}" if lowest is not None else ""
    )


def posted_entry(row: dict[str, Any], name: str) -> dict[str, Any]:
    """An entry of the ledger as a slip posted it (R5), or a correction (R6)."""
    detail = from_json(row["detail"]) or {}
    basis = None if row["basis_cents"] is None else from_cents(row["basis_cents"])
    upper = None if detail.get("next_threshold") is None else Decimal(detail["next_threshold"])
    entry = {
        "dealer_id": row["dealer_id"],
        "dealer_name": name,
        "period": row["period"],
        "kind": row["kind"],
        "status": "posted",
        "basis": basis,
        "rate": None if row["rate"] is None else Decimal(row["rate"]),
        "amount": from_cents(row["amount_cents"]),
        "policy_version": row["policy_version"],
        "tier": row["tier"],
        "threshold": None if row["threshold"] is None else money(Decimal(row["threshold"])),
        "slip_id": row["slip_id"],
        "reached": detail.get("reached"),
        "rule": detail.get("rule", "R6" if row["kind"] == "correction" else ""),
        # Slips issued before lines carried the next step hold none (None here).
        "next_threshold": upper,
        "next_rate": None if detail.get("next_rate") is None else Decimal(detail["next_rate"]),
        "distance": None if basis is None else distance(basis, upper),
        "dispute": detail.get("dispute"),
        "note": detail.get("note"),
    }
    if row["kind"] == "correction" and entry["note"] is None:
        entry["note"] = detail.get("why", "")  # a correction line of an older slip
    entry["why"] = rebate_why(entry)
    return entry


def accrued_entry(dealer_id: str, name: str, line: RebateLine) -> dict[str, Any]:
    """What the dealer would earn if the period closed now (R5), as an entry of the ledger."""
    entry = {
        "dealer_id": dealer_id,
        "dealer_name": name,
        "period": str(line.period),
        "kind": line.kind.value,
        "status": "accrued",
        "basis": line.basis,
        "rate": line.rate,
        "amount": line.amount,
        "policy_version": line.policy_version,
        "tier": line.tier.value,
        "threshold": None if line.threshold is None else money(line.threshold),
        "slip_id": None,
        "reached": line.reached,
        "rule": line.rule,
        "next_threshold": line.next_threshold,
        "next_rate": line.next_rate,
        "distance": line.distance,
        "dispute": None,
        "note": None,
    }
    entry["why"] = rebate_why(entry)
    return entry
