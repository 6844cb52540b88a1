"""/credit: a tier-A dealer's rating (C2) and credit line (C3–C5)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.http.auth import guard, path_dealer
from services.http.context import ledger, synced
from services.http.keys import Role
from services.http.pages import ApiBlueprint
from services.http.schemas import credit as s
from services.http.views import credit_view

blp = ApiBlueprint("credit", __name__, url_prefix="/credit", description="Credit lines (C1–C5)")


@blp.route("/<uuid:dealer_id>")
class CreditLineById(MethodView):
    @guard(Role.FINANCE, Role.MANAGER, Role.AUDITOR, Role.DEALER, own=path_dealer())
    @blp.response(200, s.CreditLineSchema)
    def get(self, dealer_id: UUID) -> dict[str, Any]:
        """The dealer's credit line: limit, reserved, receivable, available (C3)

        Status `none` when the dealer was never rated.
        """
        app = ledger()
        return credit_view(app.get_credit_line(dealer_id), app.clock())


@blp.route("/<uuid:dealer_id>/evaluation", methods=["POST"])
@guard(Role.MANAGER)
@blp.arguments(s.EvaluationSchema, required=False)
@blp.response(200, s.EvaluationResultSchema)
def evaluation(body: dict[str, Any], dealer_id: UUID) -> dict[str, Any]:
    """Rate the dealer for credit (C2); a rating opens the line (C3)

    Answers which of the five criteria failed, with the figures behind each.
    """
    app = ledger()
    line = synced(
        app.evaluate_credit(str(dealer_id), body["as_of"], body["market_development_attested"])
    )
    # The evaluation's figures are in its event, not on the aggregate: read them back.
    evaluated = next(iter(app.events.get(line.id, desc=True, limit=1)))
    return {
        "dealer_id": line.dealer_id,
        "as_of": evaluated.as_of,  # type: ignore[attr-defined]
        "eligible": evaluated.eligible,  # type: ignore[attr-defined]
        "failed_criteria": evaluated.failed_criteria,  # type: ignore[attr-defined]
        "details": evaluated.details,  # type: ignore[attr-defined]
        "credit": credit_view(line, app.clock()),
    }
