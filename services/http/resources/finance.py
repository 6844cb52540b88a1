"""/reports: the seed's tables as finance prints them — the rebate confirmation slips with the
dealers' answers (R5, R6), the sales performance by dealer and region and by salesperson (K5), the
quarter's rebate brackets with each dealer's standing (R3) — as JSON, CSV or xlsx."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from services.http.auth import guard, scoped_dealer
from services.http.context import reports
from services.http.exports import exportable
from services.http.keys import Role
from services.http.schemas import finance as s
from services.http.schemas import reports as q

blp = Blueprint("finance-tables", __name__, url_prefix="/reports",
                description="Finance's printed tables (R3, R5, R6, K5)")
DEALER, MANAGER, FINANCE, AUDITOR = Role.DEALER, Role.MANAGER, Role.FINANCE, Role.AUDITOR


@blp.route("/rebate-confirmations", methods=["GET"])
@guard(FINANCE, MANAGER, AUDITOR, DEALER)
@blp.arguments(q.RebateQuerySchema, location="query")
@blp.response(200, s.ConfirmationsSchema)
@exportable(blp, "confirmations", s.ConfirmationsSchema)
def confirmations(query: dict[str, Any]) -> dict[str, Any]:
    """返点确认单: the rebate confirmation slips of a month or quarter with the dealer's answer

    One xlsx sheet per dealer: each line's basis, rate and amount, the dealer's answer (confirmed
    or disputed, with the reason) and finance's resolution (R5, R6). A dealer key sees its own.
    """
    requested = str(query["dealer_id"]) if query.get("dealer_id") else None
    found: dict[str, Any] = reports().confirmations(query["period"], scoped_dealer(requested))
    return found


@blp.route("/sales-performance", methods=["GET"])
@guard(MANAGER, AUDITOR, FINANCE)
@blp.arguments(q.DealerRankingQuerySchema, location="query")
@blp.response(200, s.SalesPerformanceSchema)
@exportable(blp, "sales-performance", s.SalesPerformanceSchema)
def sales_performance(query: dict[str, Any]) -> dict[str, Any]:
    """销售业绩统计表: orders, net sales, returns, rebates earned and achievement by dealer and region
    (K5)"""
    found: dict[str, Any] = reports().sales_performance(query["period"], query.get("region"))
    return found


@blp.route("/salesperson-performance", methods=["GET"])
@guard(MANAGER, AUDITOR, FINANCE)
@blp.arguments(q.PeriodQuerySchema, location="query")
@blp.response(200, s.SalespersonPerformanceSchema)
@exportable(blp, "salesperson-performance", s.SalespersonPerformanceSchema)
def salesperson_performance(query: dict[str, Any]) -> dict[str, Any]:
    """业务人员销售业绩统计表: each salesperson's dealers, orders, net sales, rebates, quota, target,
    achievement and bonus (K2, K4, K5)"""
    found: dict[str, Any] = reports().salesperson_performance(query["period"])
    return found


@blp.route("/quarterly-rebates", methods=["GET"])
@guard(FINANCE, MANAGER, AUDITOR)
@blp.arguments(q.PeriodQuerySchema, location="query")
@blp.response(200, s.QuarterlyRebatesSchema)
@exportable(blp, "quarterly-rebates", s.QuarterlyRebatesSchema)
def quarterly_rebates(query: dict[str, Any]) -> dict[str, Any]:
    """授权营销商的季度返点表: the quarter's brackets and each dealer's standing (R3, R4)

    A month names its quarter.
    """
    found: dict[str, Any] = reports().quarterly_rebates(query["period"])
    return found
