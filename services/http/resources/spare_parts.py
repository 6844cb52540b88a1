"""/spare-parts: draws from a repair centre's pool at cost value (S3)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.ids import NATIONAL_POOL
from services.http.auth import guard
from services.http.context import ledger, synced
from services.http.keys import Role
from services.http.pages import ApiBlueprint
from services.http.schemas import spare_parts as s
from services.http.views import pool_view

blp = ApiBlueprint(
    "spare-parts", __name__, url_prefix="/spare-parts", description="Spare-parts pools (S1–S3)"
)


def pool_owner(kwargs: dict[str, Any]) -> str:
    """The repair centre's dealer id (normalised), or the national pool's name."""
    pool = str(kwargs["dealer_id"])
    try:
        return str(UUID(pool))
    except ValueError:
        return pool


@blp.route("/<string:dealer_id>/draws", methods=["POST"])
@guard(Role.DEALER, Role.MANAGER, own=pool_owner)
@blp.arguments(s.DrawSchema)
@blp.response(200, s.PoolSchema)
def draws(body: dict[str, Any], dealer_id: str) -> dict[str, Any]:
    """Draw spare parts from the pool at their cost value, within its balance (S3)

    The pool is the repair centre's dealer id, or `national`.
    """
    pool = NATIONAL_POOL if dealer_id == NATIONAL_POOL else pool_owner({"dealer_id": dealer_id})
    done = ledger().draw_spare_parts(
        pool, body["drawn_on"], body["part"], body["qty"], body["value"]
    )
    return pool_view(synced(done))
