"""/reports: the seed's tables as finance prints them — the rebate confirmation slips with the
dealers' answers (R5, R6), the sales performance by dealer and region and by salesperson (K5), the
quarter's rebate brackets with each dealer's standing (R3) — as JSON, CSV or xlsx."""

from __future__ import annotations

from typing import Any

from services.http.auth import scoped_dealer
from services.http.context import reports
from services.http.exports import report
from services.http.keys import Role
from services.http.pages import ApiBlueprint
from services.http.schemas import finance as s
from services.http.schemas import reports as q

blp = ApiBlueprint("finance-tables", __name__, url_prefix="/reports",
                description="Finance's printed tables (R3, R5, R6, K5)")
DEALER, MANAGER, FINANCE, AUDITOR = Role.DEALER, Role.MANAGER, Role.FINANCE, Role.AUDITOR


@report(blp, "/rebate-confirmations", "confirmations", q.RebateQuerySchema, s.ConfirmationsSchema,
        FINANCE, MANAGER, AUDITOR, DEALER)
def confirmations(query: dict[str, Any]) -> dict[str, Any]:
    """返点确认单: the rebate confirmation slips of a month or quarter with the dealer's answer

    One xlsx sheet per dealer: each line's basis, rate and amount, the dealer's answer (confirmed
    or disputed, with the reason) and finance's resolution (R5, R6). A dealer key sees its own.
    """
    requested = str(query["dealer_id"]) if query.get("dealer_id") else None
    found: dict[str, Any] = reports().confirmations(query["period"], scoped_dealer(requested))
    return found


@report(blp, "/sales-performance", "sales-performance", q.DealerRankingQuerySchema, s.SalesPerformanceSchema,
        MANAGER, AUDITOR, FINANCE)
def sales_performance(query: dict[str, Any]) -> dict[str, Any]:
    """销售业绩统计表: orders, net sales, returns, rebates earned and achievement by dealer and region
    (K5)"""
    found: dict[str, Any] = reports().sales_performance(query["period"], query.get("region"))
    return found


@report(blp, "/salesperson-performance", "salesperson-performance", q.PeriodQuerySchema,
        s.SalespersonPerformanceSchema, MANAGER, AUDITOR, FINANCE)
def salesperson_performance(query: dict[str, Any]) -> dict[str, Any]:
    """业务人员销售业绩统计表: each salesperson's dealers, orders, net sales, rebates, quota, target,
    achievement and bonus (K2, K4, K5)"""
    found: dict[str, Any] = reports().salesperson_performance(query["period"])
    return found


@report(blp, "/quarterly-rebates", "quarterly-rebates", q.PeriodQuerySchema, s.QuarterlyRebatesSchema,
        FINANCE, MANAGER, AUDITOR)
def quarterly_rebates(query: dict[str, Any]) -> dict[str, Any]:
    """授权营销商的季度返点表: the quarter's brackets and each dealer's standing (R3, R4)

    A month names its quarter.
    """
    found: dict[str, Any] = reports().quarterly_rebates(query["period"])
    return found
