"""/rebate-slips: the confirmation slips a close issues (R5); the dealer confirms or disputes them
line by line, finance resolves each dispute (R6)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from projections.faults import ReadModelStoppedError
from services.http.auth import guard, scoped_dealer
from services.http.context import ledger, reports, synced
from services.http.exports import exportable
from services.http.keys import Role
from services.http.openapi import links
from services.http.pages import ApiBlueprint, page_of, paginated
from services.http.schemas import slips as s
from services.http.views import slip_view

blp = ApiBlueprint(
    "rebate-slips", __name__, url_prefix="/rebate-slips", description="Rebate slips (R5, R6)"
)
DEALER, FINANCE, MANAGER, AUDITOR = Role.DEALER, Role.FINANCE, Role.MANAGER, Role.AUDITOR


def slip_owner(kwargs: dict[str, Any]) -> str:
    return ledger().get_slip(kwargs["slip_id"]).dealer_id


def slip(slip_id: UUID) -> dict[str, Any]:
    found: dict[str, Any] = reports().slip(str(slip_id))
    return found


def answer(slip_id: UUID) -> dict[str, Any]:
    """A command's answer: the slip from the read model; while it is stopped, the command's events
    are stored all the same, so the write side answers."""
    try:
        return slip(slip_id)
    except ReadModelStoppedError:
        found = ledger().get_slip(slip_id)
        return slip_view(found, ledger().get_dealer(found.dealer_id).name)


@blp.route("")
class Slips(MethodView):
    @guard(FINANCE, MANAGER, AUDITOR, DEALER)
    @blp.arguments(s.SlipQuerySchema, location="query")
    @blp.response(200, s.SlipListSchema)
    @paginated(blp)
    @exportable(blp, "slips", s.SlipListSchema)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> dict[str, Any]:
        """The slips, by dealer and period (a month, or a quarter's months)

        A dealer key sees its own slips only.
        """
        requested = str(query["dealer_id"]) if query.get("dealer_id") else None
        found = reports().slips(dealer_id=scoped_dealer(requested), period=query.get("period"))
        return {"slips": page_of(found, pagination_parameters)}


@blp.route("/<uuid:slip_id>")
class SlipById(MethodView):
    @guard(FINANCE, MANAGER, AUDITOR, DEALER, own=slip_owner)
    @blp.response(200, s.SlipSchema)
    @exportable(blp, "slips", s.SlipSchema)
    def get(self, slip_id: UUID) -> dict[str, Any]:
        """A slip: its lines (basis, rate, amount, why) and disputes"""
        return slip(slip_id)


@blp.route("/<uuid:slip_id>/confirmation", methods=["POST"])
@guard(DEALER, own=slip_owner)
@blp.arguments(s.SlipConfirmationSchema, required=False)
@blp.response(200, s.SlipSchema)
def confirmation(body: dict[str, Any], slip_id: UUID) -> dict[str, Any]:
    """The dealer confirms its slip (R6)"""
    synced(ledger().confirm_slip(str(slip_id), body["confirmed_on"]))
    return answer(slip_id)


@blp.route("/<uuid:slip_id>/disputes", methods=["POST"])
@guard(DEALER, own=slip_owner)
@blp.arguments(s.SlipDisputeSchema)
@blp.response(200, s.SlipSchema)
@blp.doc(responses={200: {"links": links("slip_id", "$request.path.slip_id",
                                         "GET /rebate-slips/{slip_id}",
                                         "POST /rebate-slips/{slip_id}/resolutions")}})
def disputes(body: dict[str, Any], slip_id: UUID) -> dict[str, Any]:
    """The dealer disputes lines of its slip, each with a reason (R6)"""
    synced(ledger().dispute_slip(str(slip_id), body["lines"], body["disputed_on"]))
    return answer(slip_id)


@blp.route("/<uuid:slip_id>/resolutions", methods=["POST"])
@guard(FINANCE)
@blp.arguments(s.SlipResolutionSchema)
@blp.response(200, s.SlipSchema)
def resolutions(body: dict[str, Any], slip_id: UUID) -> dict[str, Any]:
    """Finance resolves a dispute: accepted with a correcting entry in the open month, or
    rejected with a reason (R6)"""
    done = ledger().resolve_dispute(
        str(slip_id), body["dispute"], body["accept"], body["amount"], body["note"],
        body["resolved_on"],
    )
    synced(done)
    return answer(slip_id)
