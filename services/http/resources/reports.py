"""/reports: the rebate ledger and its explanations (R5, R7), spare-parts budgets (S2, S3) and the
performance tables (K1–K5), read from the projections."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from domain.errors import InvalidInputError
from services.http.auth import Denied, guard, path_dealer, principal, scoped_dealer
from services.http.context import reports
from services.http.exports import exportable, report
from services.http.fields import PERIOD
from services.http.keys import Role
from services.http.openapi import path_text
from services.http.pages import ApiBlueprint
from services.http.schemas import reports as s

blp = ApiBlueprint("reports", __name__, url_prefix="/reports", description="Reports (R, S, K)")
DEALER, SALES, MANAGER, FINANCE, AUDITOR = (
    Role.DEALER, Role.SALES, Role.MANAGER, Role.FINANCE, Role.AUDITOR
)


@report(blp, "/rebates", "rebates", s.RebateQuerySchema, s.RebatesSchema,
        FINANCE, MANAGER, AUDITOR, DEALER)
def rebates(query: dict[str, Any]) -> dict[str, Any]:
    """The rebate ledger of a month, or of a quarter with its months (R1–R5)

    Accrued while the period is open, posted once it is closed. A dealer key sees its own
    entries only.
    """
    requested = str(query["dealer_id"]) if query.get("dealer_id") else None
    return {"entries": reports().rebates(query["period"], dealer_id=scoped_dealer(requested))}


@blp.route("/rebates/<uuid:dealer_id>/<string:period>/explanation", methods=["GET"],
           parameters=[path_text("period", PERIOD, "a month YYYY-MM or a quarter YYYY-Qn")])
@guard(FINANCE, MANAGER, AUDITOR, DEALER, own=path_dealer())
@blp.response(200, s.ExplanationSchema)
@exportable(blp, "explanation", s.ExplanationSchema)
def explanation(dealer_id: UUID, period: str) -> dict[str, Any]:
    """Why a dealer's rebates of a period are what they are (R7): entries, threshold, rate, policy
    version, and the deliveries and returns that make the basis"""
    if not re.fullmatch(PERIOD, period):
        raise InvalidInputError(f"period: {period!r} is neither YYYY-MM nor YYYY-Qn", field="period")
    found: dict[str, Any] = reports().rebate_explanation(str(dealer_id), period)
    return found


@report(blp, "/spare-budgets", "spare-budgets", s.MonthQuerySchema, s.SpareBudgetsSchema,
        FINANCE, MANAGER, AUDITOR)
def spare_budgets(query: dict[str, Any]) -> dict[str, Any]:
    """Each spare-parts pool's month: allocation (S2), draws (S3), balance"""
    return {"pools": reports().spare_budgets(query["month"])}


@report(blp, "/dealers", "dealers", s.DealerRankingQuerySchema, s.DealerRankingSchema,
        MANAGER, AUDITOR)
def dealers(query: dict[str, Any]) -> dict[str, Any]:
    """Dealers ranked by net sales in a month or quarter, overall or in a region (K3)"""
    return {"rows": reports().dealer_ranking(query["period"], region=query.get("region"))}


@report(blp, "/salespeople", "salespeople", s.PeriodQuerySchema, s.SalespersonRankingSchema,
        MANAGER, AUDITOR)
def salespeople(query: dict[str, Any]) -> dict[str, Any]:
    """Salespeople ranked by net sales, with quota, achievement and the bonus mark (K2, K4)"""
    return {"rows": reports().salesperson_ranking(query["period"])}


@report(blp, "/weekly", "weekly", s.WeeklyQuerySchema, s.WeeklySchema, SALES, MANAGER)
def weekly(query: dict[str, Any]) -> dict[str, Any]:
    """A salesperson's week: net sales, channel progress, forecasts (K1)

    A sales key sees its own salesperson's week only (the key names the salesperson).
    """
    who = principal()
    if who.role == SALES and who.salesperson != query["salesperson"]:
        raise Denied("a sales key sees the weekly report of its own salesperson only")
    found: dict[str, Any] = reports().weekly(query["salesperson"], query["week"])
    return found


@report(blp, "/accruals", "accruals", s.MonthQuerySchema, s.AccrualsSchema, FINANCE, AUDITOR)
def accruals(query: dict[str, Any]) -> dict[str, Any]:
    """The accrual journal of a month end: per dealer the rebate accrued and not yet posted and the
    spare-parts fund allocated (S2), balanced; a close's posting reverses the accrual (R5)"""
    found: dict[str, Any] = reports().accruals(query["month"])
    return found


@report(blp, "/statistics", "statistics", s.PeriodQuerySchema, s.StatisticsSchema,
        MANAGER, AUDITOR, FINANCE)
def statistics(query: dict[str, Any]) -> dict[str, Any]:
    """Sales statistics per dealer, salesperson and region (K5)"""
    found: dict[str, Any] = reports().statistics(query["period"])
    return found

