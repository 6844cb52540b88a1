"""The auditor's pages: the rebate ledger of a period, each figure opening its explanation (R7)
down to the stored events behind it, and the log's verification status (the closes' hash chain
and the slips' sealed evidence)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from domain.errors import ChannelError
from services.audit.verify import verify
from services.console.manager import report_period
from services.console.pages import attach, own_dealer, page, refused
from services.http.context import ledger, reports
from services.http.keys import Role

bp = Blueprint("auditor", __name__, url_prefix="/console/audit")
attach(bp)
AUDITOR, FINANCE, MANAGER, DEALER = Role.AUDITOR, Role.FINANCE, Role.MANAGER, Role.DEALER


def stored_event(position: int) -> dict[str, Any] | None:
    """The event stored at a log position, decoded by the application's own mapper."""
    app = ledger()
    found = app.recorder.select_notifications(start=position, limit=1)
    if not found or found[0].id != position:
        return None
    event = app.mapper.to_domain_event(found[0])
    detail = {k: v for k, v in event.__dict__.items() if k not in ("originator_id", "timestamp")}
    return {"position": position, "topic": found[0].topic, "originator": str(event.originator_id),
            "version": event.originator_version, "detail": detail}


@bp.route("/", methods=["GET"])
@page(AUDITOR, FINANCE, MANAGER)
def ledger_page() -> ResponseReturnValue:
    period = report_period()
    try:
        entries = reports().rebates(period)
    except ChannelError as e:
        return render_template("console/error.html", error=refused(e)), 422
    return render_template("console/audit_ledger.html", entries=entries, period=period)


@bp.route("/explain/<uuid:dealer_id>/<string:period>", methods=["GET"])
@page(AUDITOR, FINANCE, MANAGER, DEALER)
def explain(dealer_id: UUID, period: str) -> ResponseReturnValue:
    own_dealer(str(dealer_id))
    try:
        found = reports().rebate_explanation(str(dealer_id), period)
    except ChannelError as e:
        return render_template("console/error.html", error=refused(e)), 404
    positions = sorted({f["position"] for f in found["deliveries"] + found["returns"]})
    events = [e for e in (stored_event(p) for p in positions[:200]) if e is not None]
    return render_template("console/explain.html", x=found, events=events,
                           kind=request.args.get("kind"))


@bp.route("/status", methods=["GET"])
@page(AUDITOR)
def status() -> ResponseReturnValue:
    result = verify(ledger())
    return render_template("console/audit_status.html", result=result)
