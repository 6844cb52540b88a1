"""/periods: finance closes a month (O6); the close allocates the spare-parts pools (S2) and issues
the rebate confirmation slips (R5)."""

from __future__ import annotations

import re
from typing import Any

from domain.errors import InvalidInputError
from services.http.auth import guard
from services.http.context import ledger, synced
from services.http.fields import MONTH
from services.http.keys import Role
from services.http.openapi import path_text
from services.http.pages import ApiBlueprint
from services.http.schemas import periods as s

blp = ApiBlueprint("periods", __name__, url_prefix="/periods", description="Accounting periods (O6)")


@blp.route("/<string:month>/close", methods=["POST"],
           parameters=[path_text("month", MONTH, "the month to close, YYYY-MM")])
@guard(Role.FINANCE)
@blp.arguments(s.PeriodCloseSchema, required=False)
@blp.response(200, s.PeriodClosedSchema)
def close(body: dict[str, Any], month: str) -> dict[str, Any]:
    """Close a month (O6): months close in order, after their last day"""
    if not re.fullmatch(MONTH, month):
        raise InvalidInputError(f"month: {month!r} is not a month YYYY-MM", field="month")
    calendar = synced(ledger().close_period(month, body["closed_on"]))
    return dict(calendar.closes[-1])
