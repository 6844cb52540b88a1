"""The sentence that explains a rebate line (R7), rendered from the line's figures wherever a line
is shown (HTTP ledger, explanation and slips, `channel report`, `channel audit explain`, the demo).
Events carry figures only; slips issued before that still hold a `why` of their own, which only
serves here as the note of an old correction."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.values import money


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _money(value: Any) -> Decimal | None:
    # Shown to the cent wherever the line comes from (a slip keeps "300000", a ledger 300000.00).
    found = _dec(value)
    return None if found is None else money(found)


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
