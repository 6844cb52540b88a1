"""Sales' pages: the salesperson's dealers with their onboarding step (D1–D4) and the next action,
and the weekly report (K1)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from domain.dealer import DealerStatus
from domain.errors import ChannelError
from domain.values import Week
from services.console.pages import attach, page, refused, today, who
from services.http.context import reports
from services.http.keys import Role

bp = Blueprint("sales", __name__, url_prefix="/console/sales")
attach(bp)
NEXT = {
    DealerStatus.REGISTERED: _l("Sign the draft agreement (D1)"),
    DealerStatus.DRAFT_SIGNED: _l("Submit the sales forecast (D2)"),
    DealerStatus.FORECAST_SUBMITTED: _l("Sign the formal agreement (D4)"),
    DealerStatus.SIGNED: _l("Place the first order to put the agreement into effect (D3)"),
    DealerStatus.ACTIVE: _l("Keep the month's orders coming (R2)"),
    DealerStatus.TERMINATED: _l("None: terminated (D7)"),
}


@bp.route("/dealers", methods=["GET"])
@page(Role.SALES, Role.MANAGER)
def dealers() -> ResponseReturnValue:
    mine = who().salesperson if who().role == Role.SALES else None
    rows = [r for r in reports().dealers() if mine is None or r["salesperson"] == mine]
    for r in rows:
        r["next_action"] = NEXT.get(DealerStatus(r["status"]), "")
    return render_template("console/sales_dealers.html", dealers=rows, salesperson=mine)


@bp.route("/weekly", methods=["GET"])
@page(Role.SALES, Role.MANAGER)
def weekly() -> ResponseReturnValue:
    salesperson = who().salesperson if who().role == Role.SALES else request.args.get("salesperson")
    week = request.args.get("week") or str(Week.of(today()))
    report, message = None, None
    if salesperson:
        try:
            report = reports().weekly(salesperson, str(Week.parse(week)))
        except ChannelError as e:
            message = refused(e)
    elif who().role == Role.SALES:
        abort(403, "a sales key names its salesperson")
    return render_template("console/weekly.html", report=report, week=week,
                           salesperson=salesperson or "", message=message)
