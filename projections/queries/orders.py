"""The orders family's queries: the orders (O1) with their status in the life cycle (O3), paid
and returned amounts."""

from __future__ import annotations

from typing import Any

from projections.queries.common import QueryBase, day_or_none
from projections.records import from_cents


class OrderQueries(QueryBase):
    """The orders over the view."""

    def orders(self, dealer_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The orders, of a dealer and in a status when given, by order date then log order."""
        rows = self._rows("orders", "order_date, position", dealer_id=dealer_id, status=status)
        return [
            {
                "order_id": r["order_id"],
                "dealer_id": r["dealer_id"],
                "client_ref": r["client_ref"],
                "order_date": day_or_none(r["order_date"]),
                "status": r["status"],
                "payment": r["payment"],
                "total": from_cents(r["total_cents"]),
                "needs_approval": bool(r["needs_approval"]),
                "salesperson": r["salesperson"],
                "region": r["region"],
                "paid": from_cents(r["paid_cents"]),
                "returned": from_cents(r["returned_cents"]),
            }
            for r in rows
        ]
