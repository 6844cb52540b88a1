"""The events behind a rebate confirmation slip (R5, R7), as log positions: what the close's process
manager hands to `issue_slips`, which seals their digests on the slip for `channel audit verify`."""

from __future__ import annotations

from domain.values import Month
from projections.views import ChannelView


def slip_positions(view: ChannelView, dealer_id: str, month: Month, as_of: int) -> list[int]:
    """As known at the close's position `as_of`: the deliveries and returns of the month (and of
    its quarter when it ends one) that make the basis (O5), the formal agreement that sets the
    agreed amount (R2), the tier changes that set the rate table (R4) and the dispute resolutions
    booked in the month as corrections (R6)."""
    months = list(month.quarter.months) if month == month.quarter.months[-1] else [month]
    first, last = months[0].first_day.isoformat(), month.last_day.isoformat()
    with view.reading() as db:
        rows = db.all(
            "SELECT position FROM @sales WHERE dealer_id = ? AND business_date >= ? "
            "AND business_date <= ? AND position <= ?",
            (dealer_id, first, last, as_of),
        )
        rows += db.all(
            "SELECT position FROM @dealer_tiers WHERE dealer_id = ? AND position <= ?",
            (dealer_id, as_of),
        )
        rows += db.all(
            "SELECT agreement_position AS position FROM @dealers WHERE dealer_id = ? "
            "AND agreement_position IS NOT NULL AND agreement_position <= ?",
            (dealer_id, as_of),
        )
        rows += db.all(
            "SELECT position FROM @rebate_entries WHERE dealer_id = ? AND period = ? "
            "AND kind = 'correction' AND position <= ?",
            (dealer_id, str(month), as_of),
        )
    return sorted({int(r["position"]) for r in rows})
