"""/api-keys: an admin issues and revokes keys; a new key is shown once, then only its digest is
kept."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from domain.errors import NotFoundError
from services.http.auth import guard
from services.http.context import channel, ledger
from services.http.keys import Role
from services.http.openapi import links
from services.http.pages import ApiBlueprint, page_of, paginated
from services.http.schemas import api_keys as s

blp = ApiBlueprint("api-keys", __name__, url_prefix="/api-keys", description="API keys (admin)")


@blp.route("")
class ApiKeys(MethodView):
    @guard(Role.ADMIN)
    @blp.arguments(s.ApiKeyCreateSchema)
    @blp.response(201, s.ApiKeyCreatedSchema)
    @blp.doc(responses={201: {"links": links("key_id", "$response.body#/id",
                                             "DELETE /api-keys/{key_id}")}})
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Issue a key for a role; a dealer key names its dealer, a sales key may name its
        salesperson

        The key is in this answer only.
        """
        dealer_id = str(body["dealer_id"]) if body["dealer_id"] else None
        if dealer_id is not None:
            try:
                dealer_id = str(ledger().get_dealer(dealer_id).id)
            except NotFoundError:  # an unknown id: 404, as everywhere
                raise NotFoundError(f"dealer_id: no dealer {dealer_id}") from None
        key, record = channel().keys.create(
            body["role"], dealer_id, body["salesperson"], body["label"]
        )
        return {**asdict(record), "key": key}

    @guard(Role.ADMIN)
    @blp.response(200, s.ApiKeyListSchema)
    @paginated(blp)
    def get(self, pagination_parameters: PaginationParameters) -> dict[str, Any]:
        """The issued keys (never the keys themselves)"""
        return {"keys": page_of([asdict(r) for r in channel().keys.list()], pagination_parameters)}


@blp.route("/<string:key_id>", methods=["DELETE"])
@guard(Role.ADMIN)
@blp.response(204)
def revoke(key_id: str) -> None:
    """Revoke a key, at once"""
    channel().keys.revoke(key_id)
