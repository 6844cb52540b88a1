"""Aggregates as plain dicts for the response schemas (the presentation the schemas dump); statuses
stay the domain's enums, which the schemas answer by value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.credit import CreditLine
from domain.dealer import Dealer
from domain.order import Order
from domain.price_list import PriceListVersion
from domain.rebate_slip import RebateSlip, SlipStatus
from domain.spare_parts import SparePartsPool


def dealer_view(dealer: Dealer) -> dict[str, Any]:
    agreement = None
    if dealer.agreement is not None:
        agreement = {**dealer.agreement, "ends_on": dealer.agreement_end}
    return {
        "id": str(dealer.id),
        "name": dealer.name,
        "region": dealer.region,
        "tier": dealer.tier.value,
        "salesperson": dealer.salesperson,
        "contact": dealer.contact,
        "status": dealer.status,
        "registered_on": dealer.registered_on,
        "draft_signed_on": dealer.draft_signed_on,
        "forecasts": [{"month": m, "amount": a} for m, a in sorted(dealer.forecasts.items())],
        "agreement": agreement,
        "first_order_id": dealer.first_order_id,
        "incidents": list(dealer.incidents),
        "repair_centre_since": dealer.repair_centre_since,
        "terminated_on": dealer.terminated_on,
    }


def order_view(order: Order) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "dealer_id": order.dealer_id,
        "client_ref": order.client_ref,
        "order_date": order.order_date,
        "ship_to_region": order.ship_to_region,
        "payment": order.payment.value,
        "tier": order.tier.value,
        "status": order.status,
        "total": order.total,
        "needs_approval": order.needs_approval,
        "approvals": order.approvals,
        "price_list_version": order.price_list_version,
        "lines": order.lines,
        "confirmed_on": order.confirmed_on,
        "shipped_on": order.shipped_on,
        "delivered_on": order.delivered_on,
        "paid": order.paid,
        "outstanding": order.outstanding,
        "payments": order.payments,
        "returns": order.returns,
        "decision": order.decision,
        "cancellation": order.cancellation,
    }


def credit_view(line: CreditLine, today: date) -> dict[str, Any]:
    return {
        "dealer_id": line.dealer_id,
        "status": line.status,
        "limit": line.limit,
        "reserved": line.reserved_total,
        "receivable": line.receivable_total,
        "available": line.available,
        "overdue": line.overdue(today),
        "evaluations": line.evaluations,
        "suspension": line.suspension,
    }


def pool_view(pool: SparePartsPool) -> dict[str, Any]:
    return {
        "pool": pool.pool,
        "region": pool.region,
        "opened_on": pool.opened_on,
        "allocated": pool.allocated,
        "drawn": pool.drawn,
        "balance": pool.balance,
        "allocations": [{"month": m, "amount": a} for m, a in sorted(pool.allocations.items())],
        "closed_on": pool.closed_on,
    }


def price_list_view(version: PriceListVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "effective_from": version.effective_from,
        "policy_version": version.policy_version,
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "list_price": item.list_price,
                "floor_price": item.floor_price,
                "tier_prices": dict(item.tier_prices),
            }
            for item in version.items.values()
        ],
    }


def slip_view(slip: RebateSlip, dealer_name: str) -> dict[str, Any]:
    """A slip as the write side knows it, for a command's answer while the read model is stopped:
    its lines as issued (a correction booked on it by a later resolution is the read model's)."""
    verdict: dict[int, str] = {}
    disputes = []
    for d in slip.disputes:
        resolution = d["resolution"]
        state = "open" if resolution is None else ("accepted" if resolution["accept"] else "rejected")
        for item in d["lines"]:
            verdict[item.line] = "disputed" if resolution is None else state
        disputes.append({**d, "status": state})
    default = "confirmed" if slip.status == SlipStatus.CONFIRMED else "issued"
    lines = []
    for line in slip.lines:
        money = {k: Decimal(line[k]) for k in ("basis", "rate", "amount", "threshold")
                 if line.get(k) is not None}
        lines.append({**line, **money, "status": verdict.get(line["line"], default)})
    return {
        "slip_id": str(slip.id),
        "dealer_id": slip.dealer_id,
        "dealer_name": dealer_name,
        "period": slip.period,
        "status": slip.status.value,
        "issued_on": slip.issued_on,
        "confirmed_on": slip.confirmed_on,
        "total": slip.total,
        "lines": lines,
        "disputes": disputes,
    }
