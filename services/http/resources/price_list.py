"""/price-list: the unified price list (P1, P2) and the version in force on a date (P4)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from domain.errors import NotFoundError
from services.http.auth import EVERYONE, guard
from services.http.context import ledger, synced
from services.http.keys import Role
from services.http.pages import ApiBlueprint
from services.http.schemas import price_list as s
from services.http.views import price_list_view

blp = ApiBlueprint("price-list", __name__, url_prefix="/price-list", description="Prices (P1–P4)")


@blp.route("")
class PriceList(MethodView):
    @guard(Role.MANAGER)
    @blp.arguments(s.PriceListPublishSchema)
    @blp.response(201, s.PriceListVersionSchema)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Publish a price-list version (P1); tier prices must keep their distance (P2)

        A later publication for the same effective date supersedes the earlier one.
        """
        done = ledger().publish_price_list(body["effective_from"], body["items"])
        return price_list_view(synced(done))

    @guard(*EVERYONE)
    @blp.arguments(s.PriceListQuerySchema, location="query")
    @blp.response(200, s.PriceListVersionSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The price-list version in force on a date (P4)"""
        app = ledger()
        on = query.get("on") or app.clock()
        version = app.price_list_on(on)
        if version is None:
            raise NotFoundError(f"no price list is in force on {on}")
        return price_list_view(version)
