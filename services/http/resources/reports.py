"""/reports: the rebate ledger and its explanations (R5, R7), spare-parts budgets (S2, S3) and the
performance tables (K1–K5), read from the projections."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from flask_smorest import Blueprint

from domain.errors import InvalidInputError
from services.http.auth import Denied, guard, path_dealer, principal, scoped_dealer
from services.http.context import reports
from services.http.exports import exportable
from services.http.fields import PERIOD
from services.http.keys import Role
from services.http.openapi import path_text
from services.http.schemas import reports as s

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Reports (R, S, K)")
DEALER, SALES, MANAGER, FINANCE, AUDITOR = (
    Role.DEALER, Role.SALES, Role.MANAGER, Role.FINANCE, Role.AUDITOR
)


@blp.route("/rebates", methods=["GET"])
@guard(FINANCE, MANAGER, AUDITOR, DEALER)
@blp.arguments(s.RebateQuerySchema, location="query")
@blp.response(200, s.RebatesSchema)
@exportable(blp, "rebates", s.RebatesSchema)
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


@blp.route("/spare-budgets", methods=["GET"])
@guard(FINANCE, MANAGER, AUDITOR)
@blp.arguments(s.MonthQuerySchema, location="query")
@blp.response(200, s.SpareBudgetsSchema)
@exportable(blp, "spare-budgets", s.SpareBudgetsSchema)
def spare_budgets(query: dict[str, Any]) -> dict[str, Any]:
    """Each spare-parts pool's month: allocation (S2), draws (S3), balance"""
    return {"pools": reports().spare_budgets(query["month"])}


@blp.route("/dealers", methods=["GET"])
@guard(MANAGER, AUDITOR)
@blp.arguments(s.DealerRankingQuerySchema, location="query")
@blp.response(200, s.DealerRankingSchema)
@exportable(blp, "dealers", s.DealerRankingSchema)
def dealers(query: dict[str, Any]) -> dict[str, Any]:
    """Dealers ranked by net sales in a month or quarter, overall or in a region (K3)"""
    return {"rows": reports().dealer_ranking(query["period"], region=query.get("region"))}


@blp.route("/salespeople", methods=["GET"])
@guard(MANAGER, AUDITOR)
@blp.arguments(s.PeriodQuerySchema, location="query")
@blp.response(200, s.SalespersonRankingSchema)
@exportable(blp, "salespeople", s.SalespersonRankingSchema)
def salespeople(query: dict[str, Any]) -> dict[str, Any]:
    """Salespeople ranked by net sales, with quota, achievement and the bonus mark (K2, K4)"""
    return {"rows": reports().salesperson_ranking(query["period"])}


@blp.route("/weekly", methods=["GET"])
@guard(SALES, MANAGER)
@blp.arguments(s.WeeklyQuerySchema, location="query")
@blp.response(200, s.WeeklySchema)
@exportable(blp, "weekly", s.WeeklySchema)
def weekly(query: dict[str, Any]) -> dict[str, Any]:
    """A salesperson's week: net sales, channel progress, forecasts (K1)

    A sales key sees its own salesperson's week only (the key names the salesperson).
    """
    who = principal()
    if who.role == SALES and who.salesperson != query["salesperson"]:
        raise Denied("a sales key sees the weekly report of its own salesperson only")
    found: dict[str, Any] = reports().weekly(query["salesperson"], query["week"])
    return found


@blp.route("/accruals", methods=["GET"])
@guard(FINANCE, AUDITOR)
@blp.arguments(s.MonthQuerySchema, location="query")
@blp.response(200, s.AccrualsSchema)
@exportable(blp, "accruals", s.AccrualsSchema)
def accruals(query: dict[str, Any]) -> dict[str, Any]:
    """The accrual journal of a month end: per dealer the rebate accrued and not yet posted and the
    spare-parts fund allocated (S2), balanced; a close's posting reverses the accrual (R5)"""
    found: dict[str, Any] = reports().accruals(query["month"])
    return found


@blp.route("/statistics", methods=["GET"])
@guard(MANAGER, AUDITOR, FINANCE)
@blp.arguments(s.PeriodQuerySchema, location="query")
@blp.response(200, s.StatisticsSchema)
@exportable(blp, "statistics", s.StatisticsSchema)
def statistics(query: dict[str, Any]) -> dict[str, Any]:
    """Sales statistics per dealer, salesperson and region (K5)"""
    found: dict[str, Any] = reports().statistics(query["period"])
    return found

