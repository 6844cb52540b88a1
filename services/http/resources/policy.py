"""/policy: the policy versions recorded in the log (R4) — publish one, read the one in force."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from domain.policy import PolicyVersion, version_from_terms
from services.http.auth import EVERYONE, guard
from services.http.context import ledger, synced
from services.http.keys import Role
from services.http.pages import ApiBlueprint
from services.http.schemas import policy as s

blp = ApiBlueprint("policy", __name__, url_prefix="/policy", description="Policy versions (R4)")


def _view(version: PolicyVersion, published: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": published["number"],
        "effective_from": version.effective_from,
        "note": published["note"],
        "terms": version.terms(),
    }


@blp.route("")
class Policy(MethodView):
    @guard(Role.FINANCE, Role.MANAGER)
    @blp.arguments(s.PolicyPublishSchema)
    @blp.response(201, s.PolicyVersionSchema)
    @blp.alt_response(200, schema=s.PolicyVersionSchema, description="published already: nothing written")
    def put(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Publish a policy version, effective from a day of an open month (R4, O6)

        Every figure from that day on reads it, whichever process computes it. The same version
        sent again writes nothing; a later version for the same day replaces the earlier one.
        """
        version = version_from_terms(
            body["id"], body["effective_from"], body["terms"], recorded=False
        )
        app = ledger()
        done = app.publish_policy(version, body["note"])
        synced(done)
        published = app.get_policy().find(version.id)
        assert published is not None
        return _view(done.value, published), 201 if done.created else 200

    @guard(*EVERYONE)
    @blp.arguments(s.PolicyQuerySchema, location="query")
    @blp.response(200, s.PolicyVersionSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The policy version in force on a date (R4)"""
        app = ledger()
        register = app.get_policy()
        version = register.book.in_force(query.get("on") or app.clock())
        published = register.find(version.id)
        assert published is not None
        return _view(version, published)
