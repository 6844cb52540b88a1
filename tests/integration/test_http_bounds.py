"""O1 and P3 over HTTP: the order of finding 2 (schema-valid, far beyond every bound, sent with a
dealer's key) is refused with the field named and writes nothing, so the read side keeps
answering; the policy's bounds are published with every version (PUT /policy) and apply from
their day on."""

from __future__ import annotations

from typing import Any

from domain.limits import MAX_QTY
from tests.builders import POLICY
from tests.integration.http_fixtures import Http, http, onboard, order_body, place, publish_prices

__all__ = ["http"]

FINDING_2 = [{"sku": "ROUTER", "qty": 1_000_000, "unit_price": "100000000000.00"}]


def test_o1_the_order_of_finding_2_is_refused_with_the_field_named(http: Http) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    key = http.dealer_key(dealer_id)
    body = http.refused(409, "POST", "/orders", key=key, rule="O1", field="lines[0].qty",
                        json=order_body(dealer_id, "finding-2", lines=FINDING_2))
    assert "100000" in body["errors"]["lines[0].qty"][0]
    # The same price on a quantity within the bound is above the list price (P3).
    http.refused(409, "POST", "/orders", key=key, rule="P3", field="lines[0].unit_price",
                 json=order_body(dealer_id, "finding-2b", lines=[{**FINDING_2[0], "qty": 1}]))
    # Nothing was stored, so the read side still answers every command and report.
    order = place(http, dealer_id, "after")
    assert order["status"] == "confirmed"
    assert http.ok("GET", "/orders", key=key)["orders"][0]["client_ref"] == "after"
    assert http.ok("GET", "/healthz")["status"] == "ok"


def test_o1_an_order_above_the_total_bound_is_409_naming_total(http: Http) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    terms = POLICY.versions[0].terms()
    terms["orders"]["max_total"] = "2100.00"
    http.ok("PUT", "/policy", 201, role="manager",
            json={"id": "2026.7", "effective_from": "2026-07-01", "terms": terms})
    place(http, dealer_id, "june", on="2026-06-30", lines=[{"sku": "ROUTER", "qty": 4}])
    http.refused(409, "POST", "/orders", role="sales", rule="O1", field="total",
                 json=order_body(dealer_id, "july", on="2026-07-01",
                                 lines=[{"sku": "ROUTER", "qty": 3, "unit_price": "700.01"}]))
    assert place(http, dealer_id, "july", on="2026-07-01",
                 lines=[{"sku": "ROUTER", "qty": 3}])["total"] == "2100.00"


def test_o1_a_policy_version_states_every_bound_within_its_ceiling(http: Http) -> None:
    terms: dict[str, Any] = POLICY.versions[0].terms()
    del terms["prices"]
    http.refused(422, "PUT", "/policy", role="manager", field="terms.prices",
                 json={"id": "2026.8", "effective_from": "2026-08-01", "terms": terms})
    terms = POLICY.versions[0].terms()
    terms["orders"]["max_qty"] = MAX_QTY + 1
    http.refused(422, "PUT", "/policy", role="manager", field="terms.orders.max_qty",
                 json={"id": "2026.8", "effective_from": "2026-08-01", "terms": terms})


def test_o1_the_schema_keeps_only_the_ceilings_the_policy_stays_within(http: Http) -> None:
    """A quantity above the default bound but within the ceiling reaches the policy (409 O1),
    so a version that raises the bound is not contradicted by the schema."""
    publish_prices(http)
    dealer_id = onboard(http)
    http.refused(409, "POST", "/orders", role="sales", rule="O1", field="lines[0].qty",
                 json=order_body(dealer_id, "big", lines=[{"sku": "SWITCH", "qty": 100_001}]))
    http.refused(422, "POST", "/orders", role="sales", field="lines.0.qty",
                 json=order_body(dealer_id, "huge", lines=[{"sku": "SWITCH", "qty": MAX_QTY + 1}]))
