"""/dealers: registration, onboarding (D1–D3), tier, salesperson, incidents, termination, repair
centre (D4–D8, S1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from services.http.auth import guard, path_dealer, scoped_dealer
from services.http.context import ledger, reports, synced
from services.http.keys import Role
from services.http.openapi import links
from services.http.pages import ApiBlueprint, page_of, paginated
from services.http.schemas import dealers as s
from services.http.schemas.spare_parts import PoolSchema
from services.http.views import dealer_view, pool_view

blp = ApiBlueprint("dealers", __name__, url_prefix="/dealers", description="Dealers (D1–D9, S1)")
SALES, MANAGER, AUDITOR, DEALER, FINANCE = (
    Role.SALES, Role.MANAGER, Role.AUDITOR, Role.DEALER, Role.FINANCE
)


# What a registered dealer goes on to (OpenAPI links from its registration).
DEALER_OPERATIONS = (
    "GET /dealers/{dealer_id}", "POST /dealers/{dealer_id}/draft-agreement",
    "POST /dealers/{dealer_id}/forecasts", "POST /dealers/{dealer_id}/formal-agreement",
    "POST /dealers/{dealer_id}/tier", "POST /dealers/{dealer_id}/reassignment",
    "POST /dealers/{dealer_id}/incidents", "POST /dealers/{dealer_id}/termination",
    "POST /dealers/{dealer_id}/repair-centre", "GET /credit/{dealer_id}",
    "POST /credit/{dealer_id}/evaluation", "POST /spare-parts/{dealer_id}/draws",
)


@blp.route("")
class Dealers(MethodView):
    @guard(SALES)
    @blp.arguments(s.DealerCreateSchema)
    @blp.response(201, s.DealerSchema)
    @blp.doc(responses={201: {"links": links("dealer_id", "$response.body#/id", *DEALER_OPERATIONS)}})
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a dealer (D1)"""
        return dealer_view(synced(ledger().register_dealer(**body)))

    @guard(SALES, MANAGER, AUDITOR, DEALER)
    @blp.arguments(s.DealerQuerySchema, location="query")
    @blp.response(200, s.DealerListSchema)
    @paginated(blp)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> dict[str, Any]:
        """List dealers, by region and tier

        A dealer key sees its own row only.
        """
        own = scoped_dealer(None)
        rows = reports().dealers(region=query.get("region"), tier=query.get("tier"))
        mine = [r for r in rows if own is None or r["dealer_id"] == own]
        return {"dealers": page_of(mine, pagination_parameters)}


@blp.route("/<uuid:dealer_id>")
class DealerById(MethodView):
    @guard(SALES, MANAGER, AUDITOR, DEALER, own=path_dealer())
    @blp.response(200, s.DealerSchema)
    def get(self, dealer_id: UUID) -> dict[str, Any]:
        """A dealer, with its agreement, forecasts and incidents"""
        return dealer_view(ledger().get_dealer(dealer_id))


@blp.route("/<uuid:dealer_id>/draft-agreement", methods=["POST"])
@guard(SALES)
@blp.arguments(s.DraftAgreementSchema, required=False)
@blp.response(200, s.DealerSchema)
def draft_agreement(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Sign the draft agreement (D2)"""
    return dealer_view(synced(ledger().sign_draft_agreement(str(dealer_id), body["signed_on"])))


@blp.route("/<uuid:dealer_id>/forecasts", methods=["POST"])
@guard(SALES, DEALER, own=path_dealer())
@blp.arguments(s.ForecastSchema)
@blp.response(200, s.DealerSchema)
def forecasts(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Submit the sales forecast (D2)"""
    months = [(m["month"], m["amount"]) for m in body["months"]]
    return dealer_view(synced(ledger().submit_forecast(str(dealer_id), months)))


@blp.route("/<uuid:dealer_id>/formal-agreement", methods=["POST"])
@guard(MANAGER)
@blp.arguments(s.FormalAgreementSchema)
@blp.response(200, s.DealerSchema)
def formal_agreement(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Sign the formal agreement (D2, D4: takes a tier seat)"""
    done = ledger().sign_formal_agreement(
        str(dealer_id), body["signed_on"], body["monthly_amount"], body["term_months"]
    )
    return dealer_view(synced(done))


@blp.route("/<uuid:dealer_id>/tier", methods=["POST"])
@guard(MANAGER)
@blp.arguments(s.TierChangeSchema)
@blp.response(200, s.DealerSchema)
def tier(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Change the dealer's tier (D6, D4)"""
    done = ledger().change_tier(str(dealer_id), body["tier"], body["reason"], body["effective_on"])
    return dealer_view(synced(done))


@blp.route("/<uuid:dealer_id>/reassignment", methods=["POST"])
@guard(MANAGER)
@blp.arguments(s.ReassignmentSchema)
@blp.response(200, s.DealerSchema)
def reassignment(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Reassign the dealer to another salesperson (D8)"""
    done = ledger().reassign_salesperson(str(dealer_id), body["salesperson"], body["effective_on"])
    return dealer_view(synced(done))


@blp.route("/<uuid:dealer_id>/incidents", methods=["POST"])
@guard(MANAGER, FINANCE)
@blp.arguments(s.IncidentCreateSchema)
@blp.response(200, s.DealerSchema)
def incidents(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Record a violation, bad debt or dispute (D7; C4 suspends credit)"""
    done = ledger().record_incident(
        str(dealer_id), body["kind"], body["occurred_on"], body["note"]
    )
    return dealer_view(synced(done))


@blp.route("/<uuid:dealer_id>/termination", methods=["POST"])
@guard(MANAGER)
@blp.arguments(s.TerminationSchema)
@blp.response(200, s.DealerSchema)
def termination(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Terminate the dealer (D7; frees its seat, D4)"""
    done = ledger().terminate_dealer(str(dealer_id), body["terminated_on"], body["reason"])
    return dealer_view(synced(done))


@blp.route("/<uuid:dealer_id>/repair-centre", methods=["POST"])
@guard(MANAGER)
@blp.arguments(s.RepairCentreSchema, required=False)
@blp.response(201, PoolSchema)
def repair_centre(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Authorize a tier-A dealer as its region's repair centre (S1); opens its spare-parts pool"""
    return pool_view(synced(ledger().authorize_repair_centre(str(dealer_id), body["signed_on"])))
