"""/orders: placement (O1, P3, P4, D9), approval, cancellation, shipment, delivery, payments and
returns (O3–O6)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from services.http.auth import body_dealer, guard, require_own_dealer, scoped_dealer
from services.http.context import ledger, reports, synced
from services.http.keys import Role
from services.http.openapi import links
from services.http.pages import ApiBlueprint, page_of, paginated
from services.http.schemas import orders as s
from services.http.views import order_view

blp = ApiBlueprint("orders", __name__, url_prefix="/orders", description="Orders (O1–O6, P3, D9)")
DEALER, SALES, MANAGER, FINANCE, AUDITOR = (
    Role.DEALER, Role.SALES, Role.MANAGER, Role.FINANCE, Role.AUDITOR
)


def order_owner(kwargs: dict[str, Any]) -> str:
    return ledger().get_order(kwargs["order_id"]).dealer_id


# What a placed order goes on to (OpenAPI links from its placement).
ORDER_LINKS = links(
    "order_id", "$response.body#/id", "GET /orders/{order_id}",
    *(f"POST /orders/{{order_id}}/{step}" for step in (
        "approval", "cancellation", "shipment", "delivery", "payments", "returns")),
)


@blp.route("")
class Orders(MethodView):
    @guard(DEALER, SALES, own=body_dealer)
    @blp.arguments(s.OrderCreateSchema)
    @blp.response(201, s.OrderSchema, description="the order, placed now")
    @blp.alt_response(200, schema=s.OrderSchema, success=True,
                      description="the order already placed with this client_ref (O1)")
    @blp.doc(responses={status: {"links": ORDER_LINKS} for status in (200, 201)})
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Place an order (O1)

        Confirmed at once when nothing needs approval (P3, D9). Sending the same client_ref
        again answers 200 with the existing order.
        """
        dealer_id = str(body["dealer_id"])
        require_own_dealer(dealer_id)
        done = ledger().place_order(
            dealer_id=dealer_id,
            client_ref=body["client_ref"],
            order_date=body["order_date"],
            ship_to_region=body["ship_to_region"],
            payment=body["payment"],
            lines=body["lines"],
        )
        return order_view(synced(done)), 201 if done.created else 200

    @guard(DEALER, SALES, MANAGER, FINANCE, AUDITOR)
    @blp.arguments(s.OrderQuerySchema, location="query")
    @blp.response(200, s.OrderListSchema)
    @paginated(blp)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> dict[str, Any]:
        """List orders, by dealer and status

        A dealer key sees its own orders only.
        """
        requested = str(query["dealer_id"]) if query.get("dealer_id") else None
        rows = reports().orders(dealer_id=scoped_dealer(requested), status=query.get("status"))
        return {"orders": page_of(rows, pagination_parameters)}


@blp.route("/<uuid:order_id>")
class OrderById(MethodView):
    @guard(DEALER, SALES, MANAGER, FINANCE, AUDITOR, own=order_owner)
    @blp.response(200, s.OrderSchema)
    def get(self, order_id: UUID) -> dict[str, Any]:
        """An order with its lines, payments and returns"""
        return order_view(ledger().get_order(order_id))


@blp.route("/<uuid:order_id>/approval", methods=["POST"])
@guard(MANAGER)
@blp.arguments(s.ApprovalSchema)
@blp.response(200, s.OrderSchema)
def approval(body: dict[str, Any], order_id: UUID) -> dict[str, Any]:
    """Approve or reject an order awaiting approval (P3, D9)"""
    done = ledger().decide_order(str(order_id), body["approve"], body["note"], body["decided_on"])
    return order_view(synced(done))


@blp.route("/<uuid:order_id>/cancellation", methods=["POST"])
@guard(DEALER, SALES, own=order_owner)
@blp.arguments(s.CancellationSchema, required=False)
@blp.response(200, s.OrderSchema)
def cancellation(body: dict[str, Any], order_id: UUID) -> dict[str, Any]:
    """Cancel an order not yet shipped (O3)"""
    done = ledger().cancel_order(str(order_id), body["reason"], body["cancelled_on"])
    return order_view(synced(done))


@blp.route("/<uuid:order_id>/shipment", methods=["POST"])
@guard(SALES)
@blp.arguments(s.ShipmentSchema, required=False)
@blp.response(200, s.OrderSchema)
def shipment(body: dict[str, Any], order_id: UUID) -> dict[str, Any]:
    """Ship a confirmed order; a prepaid one once paid in full (O4)"""
    return order_view(synced(ledger().ship_order(str(order_id), body["shipped_on"])))


@blp.route("/<uuid:order_id>/delivery", methods=["POST"])
@guard(SALES)
@blp.arguments(s.DeliverySchema, required=False)
@blp.response(200, s.OrderSchema)
def delivery(body: dict[str, Any], order_id: UUID) -> dict[str, Any]:
    """Record the delivery (O5: it counts in net sales; C3: credit becomes receivable)"""
    return order_view(synced(ledger().deliver_order(str(order_id), body["delivered_on"])))


@blp.route("/<uuid:order_id>/payments", methods=["POST"])
@guard(FINANCE)
@blp.arguments(s.PaymentSchema)
@blp.response(200, s.OrderSchema)
def payments(body: dict[str, Any], order_id: UUID) -> dict[str, Any]:
    """Record a payment (O3, C3)"""
    done = ledger().record_payment(str(order_id), body["paid_on"], body["amount"])
    return order_view(synced(done))


@blp.route("/<uuid:order_id>/returns", methods=["POST"])
@guard(SALES)
@blp.arguments(s.ReturnSchema)
@blp.response(200, s.OrderSchema)
def returns(body: dict[str, Any], order_id: UUID) -> dict[str, Any]:
    """Return delivered lines, in full or in part (O3, O5)"""
    done = ledger().return_order_lines(str(order_id), body["returned_on"], body["lines"])
    return order_view(synced(done))
