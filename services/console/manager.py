"""The manager's pages: the approval queue (P3, D9), rankings with charts and the K2/K4/D5 flags,
and the watchlist of dealers within 10 % of their next bracket (R2, R3)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from domain.errors import ChannelError
from domain.rebates import gap_within
from domain.values import Month, Quarter
from services.console.pages import attach, open_month, page, refused, today
from services.http.context import ledger, reports, synced
from services.http.keys import Role

bp = Blueprint("manager", __name__, url_prefix="/console/manager")
attach(bp)
MANAGER, AUDITOR, ADMIN = Role.MANAGER, Role.AUDITOR, Role.ADMIN
WITHIN = Decimal("0.10")


def report_period() -> str:
    """?period=, else the quarter of the last closed month (the open month's when none closed)."""
    given = request.args.get("period")
    if given:
        return given
    last = ledger().get_calendar().last_closed
    return str((last or open_month()).quarter)


def queue_page(message: str | None = None, status: int = 200) -> ResponseReturnValue:
    waiting = reports().orders(status="awaiting_approval")
    needs = {o["order_id"]: ledger().get_order(o["order_id"]).approvals for o in waiting}
    return render_template("console/queue.html", orders=waiting, needs=needs, message=message,
                           day=today()), status


@bp.route("/queue", methods=["GET"])
@page(MANAGER)
def queue() -> ResponseReturnValue:
    return queue_page()


@bp.route("/orders/<uuid:order_id>/decision", methods=["POST"])
@page(MANAGER)
def decide(order_id: UUID) -> ResponseReturnValue:
    approve = request.form.get("decision") == "approve"
    try:
        synced(ledger().decide_order(str(order_id), approve, request.form.get("note", "").strip(),
                                     today()))
    except ChannelError as e:
        return queue_page(refused(e), 409 if e.rule else 422)
    return redirect(url_for("manager.queue"))


def ranking_figures(period: str) -> dict[str, Any]:
    """What the rankings page shows (the benchmark measures this page)."""
    q = reports()
    dealers = q.dealer_ranking(period)
    people = q.salesperson_ranking(period)
    chart = {"labels": [d["name"] for d in dealers[:20]],
             "net": [str(d["net_sales"]) for d in dealers[:20]], "series": [_("Net sales")]}
    people_chart = {"labels": [p["salesperson"] for p in people],
                    "net": [str(p["net_sales"]) for p in people],
                    "next": [str(p["target"]) for p in people],
                    "series": [_("Net sales"), _("Target")]}
    return {"period": period, "dealers": dealers, "people": people, "d5": q.d5_flags(period),
            "chart": json.dumps(chart), "people_chart": json.dumps(people_chart)}


@bp.route("/rankings", methods=["GET"])
@page(MANAGER, AUDITOR, ADMIN)
def rankings() -> ResponseReturnValue:
    period = report_period()
    try:
        figures = ranking_figures(str(Quarter.parse(period)) if "Q" in period else str(Month.parse(period)))
    except ChannelError as e:
        return render_template("console/error.html", error=refused(e)), 422
    return render_template("console/rankings.html", **figures)


@bp.route("/watchlist", methods=["GET"])
@page(MANAGER, AUDITOR, ADMIN)
def watchlist() -> ResponseReturnValue:
    """R2/R3 accruals of the open month and its quarter within 10 % of the next threshold."""
    month = open_month()
    rows = []
    for period in (str(month), str(month.quarter)):
        for e in reports().rebates(period):
            if e["status"] == "accrued" and gap_within(e["distance"], e["next_threshold"], WITHIN):
                rows.append(e)
    return render_template("console/watchlist.html", rows=rows, month=month)
