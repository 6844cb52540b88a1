"""The dealers family's queries: the dealers as registered (D1), with their tier (D6), owner
(D8), onboarding status (D2, D3) and termination (D7)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.values import Tier
from projections.queries.common import QueryBase, day_or_none


class DealerQueries(QueryBase):
    """The dealers over the view."""

    def dealers(self, region: str | None = None, tier: str | None = None) -> list[dict[str, Any]]:
        """The dealers, of a region and of a tier when given, by name."""
        tier = Tier.parse(tier).value if tier else None
        rows = self._rows("dealers", "name, dealer_id", region=region, tier=tier)
        return [
            {
                "dealer_id": r["dealer_id"],
                "name": r["name"],
                "region": r["region"],
                "tier": r["tier"],
                "salesperson": r["salesperson"],
                "status": r["status"],
                "registered_on": day_or_none(r["registered_on"]),
                "monthly_amount": Decimal(r["monthly_amount"]) if r["monthly_amount"] else None,
                "start_month": r["start_month"],
                "repair_centre": r["repair_centre_since"] is not None,
                "terminated_on": day_or_none(r["terminated_on"]),
            }
            for r in rows
        ]
