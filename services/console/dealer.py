"""The dealer's pages: home (R2/R3 bracket distance chart, accruals, credit, open orders), orders
(list, new order priced at the dealer's tier (P3), timeline), rebate slips (confirm, or dispute line
by line (R6); the print view of the 返点确认单). Staff open the same pages for any dealer."""

from __future__ import annotations

import json
import secrets
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from domain.errors import ChannelError, InvalidInputError, NotFoundError
from domain.values import Month, Payment
from services.console.pages import attach, open_month, own_dealer, page, refused, today, who
from services.http.context import ledger, reports, synced
from services.http.keys import Role

bp = Blueprint("dealer", __name__, url_prefix="/console")
attach(bp)
DEALER, SALES, MANAGER, FINANCE, AUDITOR = (
    Role.DEALER, Role.SALES, Role.MANAGER, Role.FINANCE, Role.AUDITOR
)
STAFF = (SALES, MANAGER, FINANCE, AUDITOR)
OPEN = ("awaiting_approval", "confirmed", "shipped")
LINES = 3


def bracket(entry: dict[str, Any] | None, pending: Decimal) -> dict[str, Any] | None:
    """One bar of the chart: net sales so far (O5), open orders on top, the next threshold and the
    rebate earned there (threshold × next rate)."""
    if entry is None:
        return None
    upper, rate = entry["next_threshold"], entry["next_rate"]
    return {
        "rule": entry["rule"], "period": entry["period"], "basis": entry["basis"],
        "pending": pending, "rate": entry["rate"], "amount": entry["amount"],
        "next_threshold": upper, "next_rate": rate, "distance": entry["distance"],
        "earn_there": None if upper is None or rate is None else (upper * rate).quantize(Decimal("0.01")),
    }


def home_figures(dealer_id: str, month: Month) -> dict[str, Any]:
    """What the dealer's home shows (the benchmark measures this page)."""
    q = reports()
    quarter = month.quarter
    entries = q.rebates(str(quarter), dealer_id=dealer_id)  # the quarter with its months (R5)
    monthly = next((e for e in entries if e["kind"] == "monthly" and e["period"] == str(month)), None)
    quarterly = next((e for e in entries if e["kind"] == "quarterly"), None)
    orders = q.orders(dealer_id=dealer_id)
    open_orders = [o for o in orders if o["status"] in OPEN]
    pending = sum((o["total"] for o in open_orders), Decimal("0"))
    bars = [b for b in (bracket(monthly, pending), bracket(quarterly, pending)) if b]
    chart = {
        "labels": [f"{b['rule']} {b['period']}" for b in bars],
        "net": [str(b["basis"]) for b in bars],
        "pending": [str(b["pending"]) for b in bars],
        "next": [None if b["next_threshold"] is None else str(b["next_threshold"]) for b in bars],
        "series": [_("Net sales"), _("Open orders"), _("Next threshold")],
    }
    return {"month": month, "quarter": quarter, "bars": bars, "chart": json.dumps(chart),
            "entries": entries, "open_orders": open_orders}


def _credit(dealer_id: str) -> Any:
    try:
        return ledger().get_credit_line(dealer_id)
    except NotFoundError:
        return None


@bp.route("/dealer", methods=["GET"])
@page(DEALER)
def mine() -> ResponseReturnValue:
    return redirect(url_for("dealer.home", dealer_id=who().dealer_id))


@bp.route("/dealers/<uuid:dealer_id>/", methods=["GET"])
@page(DEALER, *STAFF)
def home(dealer_id: UUID) -> ResponseReturnValue:
    own_dealer(str(dealer_id))
    dealer = ledger().get_dealer(dealer_id)
    try:
        month = Month.parse(request.args["month"], "month") if "month" in request.args else open_month()
    except ChannelError as e:
        abort(404, refused(e))
    figures = home_figures(str(dealer_id), month)
    return render_template("console/dealer_home.html", dealer=dealer, dealer_id=str(dealer_id),
                           credit=_credit(str(dealer_id)), **figures)


def _prices(dealer: Any, day: date) -> list[dict[str, Any]]:
    version = ledger().price_list_on(day)
    if version is None:
        return []
    tier = dealer.tier_on(day).value
    return [{"sku": i.sku, "name": i.name, "price": i.tier_prices.get(tier, i.list_price)}
            for i in version.items.values()]


def _order_lines(form: Any) -> list[dict[str, Any]]:
    lines = []
    for k in range(LINES):
        sku, qty = form.get(f"sku{k}", "").strip(), form.get(f"qty{k}", "").strip()
        if not sku or not qty:
            continue
        price = form.get(f"price{k}", "").strip()
        try:
            count = int(qty)
        except ValueError:
            raise InvalidInputError(f"lines[{k}].qty: {qty!r} is not a whole number",
                               field=f"lines[{k}].qty") from None
        lines.append({"sku": sku, "qty": count, "unit_price": price or None})
    if not lines:
        raise InvalidInputError("lines: an order has at least one line", field="lines")
    return lines


@bp.route("/dealers/<uuid:dealer_id>/orders", methods=["GET", "POST"])
@page(DEALER, *STAFF)
def orders(dealer_id: UUID) -> ResponseReturnValue:
    own_dealer(str(dealer_id))
    dealer = ledger().get_dealer(dealer_id)
    message, status, form = None, 200, request.form
    if request.method == "POST":
        if who().role not in (DEALER, SALES):
            abort(403, _("Only a dealer or its salesperson places orders."))
        try:
            order_date = date.fromisoformat(form.get("order_date", ""))
        except ValueError:
            message, status = "[order_date] " + _("a date YYYY-MM-DD"), 422
        else:
            try:
                done = ledger().place_order(
                    dealer_id=str(dealer_id), client_ref=form.get("client_ref", "").strip(),
                    order_date=order_date, ship_to_region=form.get("ship_to_region", "").strip(),
                    payment=form.get("payment", ""), lines=_order_lines(form),
                )
                order = synced(done)
                return redirect(url_for("dealer.order", order_id=str(order.id)))
            except ChannelError as e:
                message, status = refused(e), 409 if e.rule else 422
    day = today()
    rows = reports().orders(dealer_id=str(dealer_id))
    return render_template(
        "console/orders.html", dealer=dealer, dealer_id=str(dealer_id), orders=rows,
        prices=_prices(dealer, day), day=day, message=message, form=form, lines=range(LINES),
        payments=[p.value for p in Payment], client_ref=f"WEB-{secrets.token_hex(4)}",
        may_order=who().role in (DEALER, SALES),
    ), status


def _events(originator: UUID) -> list[dict[str, Any]]:
    found = []
    for event in ledger().events.get(originator):
        detail = {k: v for k, v in event.__dict__.items()
                  if k not in ("originator_id", "originator_version", "timestamp")}
        found.append({"name": type(event).__qualname__, "version": event.originator_version,
                      "detail": detail})
    return found


@bp.route("/orders/<uuid:order_id>", methods=["GET"])
@page(DEALER, *STAFF)
def order(order_id: UUID) -> ResponseReturnValue:
    found = ledger().get_order(order_id)
    own_dealer(found.dealer_id)
    return render_template("console/order.html", order=found, events=_events(order_id))


@bp.route("/dealers/<uuid:dealer_id>/slips", methods=["GET"])
@page(DEALER, FINANCE, MANAGER, AUDITOR)
def slips(dealer_id: UUID) -> ResponseReturnValue:
    own_dealer(str(dealer_id))
    return render_template("console/slips.html", dealer_id=str(dealer_id),
                           slips=reports().slips(dealer_id=str(dealer_id)))


@bp.route("/slips/<uuid:slip_id>", methods=["GET", "POST"])
@page(DEALER, FINANCE, MANAGER, AUDITOR)
def slip(slip_id: UUID) -> ResponseReturnValue:
    """A dealer answers its slip line by line: every line confirmed is a confirmation (R6); any line
    disputed (with its reason) is a dispute of those lines, the others standing as issued."""
    found = reports().slip(str(slip_id))
    own_dealer(found["dealer_id"])
    message, status = None, 200
    if request.method == "POST":
        if who().role != DEALER:
            abort(403, _("Only the dealer answers its slip."))
        disputed = [
            {"line": line["line"], "reason": request.form.get(f"reason{line['line']}", "").strip()}
            for line in found["lines"] if request.form.get(f"answer{line['line']}") == "dispute"
        ]
        try:
            if disputed:
                synced(ledger().dispute_slip(str(slip_id), disputed, today()))
            else:
                synced(ledger().confirm_slip(str(slip_id), today()))
            return redirect(url_for("dealer.slip", slip_id=str(slip_id)))
        except ChannelError as e:
            message, status = refused(e), 409 if e.rule else 422
    return render_template("console/slip.html", slip=found, message=message,
                           may_answer=who().role == DEALER), status


@bp.route("/slips/<uuid:slip_id>/print", methods=["GET"])
@page(DEALER, FINANCE, MANAGER, AUDITOR)
def slip_print(slip_id: UUID) -> ResponseReturnValue:
    found = reports().slip(str(slip_id))
    own_dealer(found["dealer_id"])
    return render_template("console/slip_print.html", slip=found)
