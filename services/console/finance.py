"""Finance's pages: the month close with a preview of what it will post — the slips (R5) and the
spare-parts allocations (S2) as the close would compute them now — before confirming (O6);
accruals, the disputes queue (R6) and the spare-parts budgets (S2, S3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from domain.errors import ChannelError
from domain.values import Month
from services.console.pages import attach, open_month, page, refused, today
from services.http.context import channel, ledger, reports, synced
from services.http.keys import Role

bp = Blueprint("finance", __name__, url_prefix="/console/finance")
attach(bp)
FINANCE = Role.FINANCE


def close_preview(month: Month) -> dict[str, Any]:
    """The close's slips and allocations at the read model's position (the benchmark measures
    this page); the close itself recomputes them at its own position."""
    q, position = reports(), channel().runtime.position
    names = {d["dealer_id"]: d["name"] for d in q.dealers()}
    slips = q.closing_slips(month, position)
    for s in slips:
        s["name"] = names.get(s["dealer_id"], "")
        s["total"] = sum((Decimal(str(line["amount"])) for line in s["lines"]), Decimal("0"))
    allocations = q.spare_allocation(month, position)
    return {"month": month, "slips": slips, "allocations": allocations, "position": position,
            "rebate_total": sum((s["total"] for s in slips), Decimal("0"))}


@bp.route("/close", methods=["GET", "POST"])
@page(FINANCE)
def close() -> ResponseReturnValue:
    month, message, status = open_month(), None, 200
    if request.method == "POST":
        try:
            closed_on = date.fromisoformat(request.form.get("closed_on", ""))
            synced(ledger().close_period(request.form.get("month", ""), closed_on))
            return redirect(url_for("finance.close", closed=request.form.get("month")))
        except ValueError:
            message, status = "[closed_on] a date YYYY-MM-DD", 422
        except ChannelError as e:
            message, status = refused(e), 409 if e.rule else 422
    return render_template("console/close.html", day=today(), message=message,
                           closed=request.args.get("closed"), **close_preview(month)), status


@bp.route("/accruals", methods=["GET"])
@page(FINANCE)
def accruals() -> ResponseReturnValue:
    month = open_month()
    rows = [e for p in (str(month), str(month.quarter)) for e in reports().rebates(p)
            if e["status"] == "accrued"]
    return render_template("console/accruals.html", rows=rows, month=month)


def disputes_page(message: str | None = None, status: int = 200) -> ResponseReturnValue:
    waiting = [s for s in reports().slips() if any(d["status"] == "open" for d in s["disputes"])]
    return render_template("console/disputes.html", slips=waiting, message=message), status


@bp.route("/disputes", methods=["GET"])
@page(FINANCE)
def disputes() -> ResponseReturnValue:
    return disputes_page()


@bp.route("/slips/<uuid:slip_id>/resolution", methods=["POST"])
@page(FINANCE)
def resolve(slip_id: UUID) -> ResponseReturnValue:
    form = request.form
    try:
        synced(ledger().resolve_dispute(
            str(slip_id), int(form.get("dispute", "0") or 0), form.get("decision") == "accept",
            form.get("amount") or None, form.get("note", "").strip(), today(),
        ))
    except ChannelError as e:
        return disputes_page(refused(e), 409 if e.rule else 422)
    return redirect(url_for("finance.disputes"))


@bp.route("/spare-budgets", methods=["GET"])
@page(FINANCE, Role.MANAGER, Role.AUDITOR)
def spare_budgets() -> ResponseReturnValue:
    last = ledger().get_calendar().last_closed
    month = request.args.get("month") or str(last or open_month())
    try:
        pools = reports().spare_budgets(str(Month.parse(month)))
    except ChannelError as e:
        return render_template("console/error.html", error=refused(e)), 422
    return render_template("console/spare_budgets.html", pools=pools, month=month)
