"""The events behind the rebate confirmation slips of a close (R5, R7), as log positions: what the
close's process manager hands to `issue_slips`, which seals their digests on the slips for
`channel audit verify`."""

from __future__ import annotations

from collections import defaultdict

from domain.values import Month
from projections.views import ChannelView


def slip_evidence(view: ChannelView, month: Month, as_of: int) -> dict[str, list[int]]:
    """Per dealer, as known at the close's position `as_of`: the deliveries and returns of the
    month (and of its quarter when it ends one) that make the basis (O5), the formal agreement
    that sets the agreed amount (R2), the tier changes that set the rate table (R4) and the
    dispute resolutions booked in the month as corrections (R6). A few statements for all dealers
    at once: the cost follows the month's events, not the number of dealers."""
    months = list(month.quarter.months) if month == month.quarter.months[-1] else [month]
    first, last = months[0].first_day.isoformat(), month.last_day.isoformat()
    with view.reading() as db:
        rows = db.all(
            "SELECT dealer_id, position FROM @sales WHERE business_date >= ? "
            "AND business_date <= ? AND position <= ?",
            (first, last, as_of),
        )
        rows += db.all(
            "SELECT dealer_id, position FROM @dealer_tiers WHERE position <= ?", (as_of,)
        )
        rows += db.all(
            "SELECT dealer_id, agreement_position AS position FROM @dealers "
            "WHERE agreement_position IS NOT NULL AND agreement_position <= ?",
            (as_of,),
        )
        rows += db.all(
            "SELECT dealer_id, position FROM @rebate_entries WHERE period = ? "
            "AND kind = 'correction' AND position <= ?",
            (str(month), as_of),
        )
    found: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        found[str(r["dealer_id"])].add(int(r["position"]))
    return {dealer_id: sorted(positions) for dealer_id, positions in found.items()}
