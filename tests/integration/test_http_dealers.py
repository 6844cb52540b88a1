"""/dealers over HTTP: registration (D1), onboarding in order (D2, D3), tier and salesperson changes
(D6, D8), incidents and termination (D7), repair centres (S1); each refusal writes nothing."""

from __future__ import annotations

from tests.integration.http_fixtures import (
    Http,
    http,
    onboard,
    place,
    publish_prices,
    register,
)

__all__ = ["http"]

DEALER = {"name": "Acme", "region": "east", "tier": "A", "salesperson": "alice",
          "contact": "acme@example.com"}


def test_d1_registration_answers_201_with_the_new_dealer_and_its_id(http: Http) -> None:
    body = http.ok("POST", "/dealers", 201, role="sales", json=DEALER)
    assert body["id"] and body["status"] == "registered" and body["tier"] == "A"
    assert body["registered_on"] == "2026-07-15"  # left out: the server's business date
    assert http.ok("GET", f"/dealers/{body['id']}", role="manager") == body


def test_d1_registration_missing_fields_is_422_field_by_field(http: Http) -> None:
    body = http.refused(422, "POST", "/dealers", role="sales", json={"name": "Acme", "tier": "B"})
    assert set(body["errors"]) == {"region", "tier", "salesperson", "contact"}


def test_d1_registration_refuses_unknown_fields_and_blank_names(http: Http) -> None:
    http.refused(422, "POST", "/dealers", role="sales", json={**DEALER, "colour": "red"},
                 field="colour")
    http.refused(422, "POST", "/dealers", role="sales", json={**DEALER, "name": "  "},
                 field="name")


def test_text_with_control_characters_or_broken_unicode_is_422(http: Http) -> None:
    # A NUL cannot be stored in a PostgreSQL text column: it would stall the projections.
    http.refused(422, "POST", "/dealers", role="sales", json={**DEALER, "name": "Ac\u0000me"},
                 field="name")
    body = '{"name": "\\ud800", "region": "east", "tier": "A", "salesperson": "a", "contact": "c"}'
    response = http.client.post("/dealers", data=body, content_type="application/json",
                                headers={"Authorization": f"Bearer {http.keys['sales']}"})
    assert response.status_code == 422 and "name" in response.get_json()["errors"]


def test_a_body_that_is_not_json_is_422(http: Http) -> None:
    response = http.client.post(
        "/dealers", data="{not json", content_type="application/json",
        headers={"Authorization": f"Bearer {http.keys['sales']}"},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]


def test_an_unknown_dealer_is_404(http: Http) -> None:
    http.refused(404, "GET", "/dealers/00000000-0000-0000-0000-000000000000", role="sales")
    http.refused(404, "POST", "/dealers/00000000-0000-0000-0000-000000000000/draft-agreement",
                 role="sales", json={})


def test_d2_onboarding_runs_in_order_over_http_and_d3_the_first_order_activates(
    http: Http,
) -> None:
    publish_prices(http)
    dealer_id = onboard(http, "signed")
    dealer = http.ok("GET", f"/dealers/{dealer_id}", role="sales")
    assert dealer["status"] == "signed"
    assert dealer["agreement"]["monthly_amount"] == "10000.00"
    assert [f["month"] for f in dealer["forecasts"]] == ["2026-01", "2026-02", "2026-03"]
    order = place(http, dealer_id, "first")
    dealer = http.ok("GET", f"/dealers/{dealer_id}", role="sales")
    assert dealer["status"] == "active" and dealer["first_order_id"] == order["id"]
    assert dealer["agreement"]["start_month"] == "2026-01"


def test_d2_a_step_out_of_order_is_409_citing_d2(http: Http) -> None:
    dealer_id = register(http)
    http.refused(409, "POST", f"/dealers/{dealer_id}/formal-agreement", role="manager",
                 json={"signed_on": "2026-01-05", "monthly_amount": "10000", "term_months": 12},
                 rule="D2")
    http.refused(409, "POST", f"/dealers/{dealer_id}/forecasts", role="sales",
                 json={"months": [{"month": "2026-01", "amount": "1"}]}, rule="D2")


def test_money_is_a_decimal_string_never_a_json_number(http: Http) -> None:
    dealer_id = onboard(http, "forecast")
    body = http.refused(
        422, "POST", f"/dealers/{dealer_id}/formal-agreement", role="manager",
        json={"signed_on": "2026-01-05", "monthly_amount": 10000.5, "term_months": 12},
        field="monthly_amount",
    )
    assert "decimal string" in body["errors"]["monthly_amount"][0]
    http.refused(422, "POST", f"/dealers/{dealer_id}/formal-agreement", role="manager",
                 json={"monthly_amount": "10000.001", "term_months": 12}, field="monthly_amount")
    http.refused(422, "POST", f"/dealers/{dealer_id}/formal-agreement", role="manager",
                 json={"monthly_amount": "10000", "term_months": 0}, field="term_months")


def test_dates_are_iso_and_bounded(http: Http) -> None:
    dealer_id = register(http)
    http.refused(422, "POST", f"/dealers/{dealer_id}/draft-agreement", role="sales",
                 json={"signed_on": "03/01/2026"}, field="signed_on")
    http.refused(422, "POST", f"/dealers/{dealer_id}/draft-agreement", role="sales",
                 json={"signed_on": "9999-12-31"}, field="signed_on")


def test_d6_tier_change_answers_the_dealer_and_refuses_the_same_tier(http: Http) -> None:
    dealer_id = onboard(http, "signed", tier="AA")
    body = http.ok("POST", f"/dealers/{dealer_id}/tier", role="manager",
                   json={"tier": "A", "reason": "grew", "effective_on": "2026-02-01"})
    assert body["tier"] == "A"
    http.refused(409, "POST", f"/dealers/{dealer_id}/tier", role="manager",
                 json={"tier": "A", "reason": "again"}, rule="D6")
    http.refused(422, "POST", f"/dealers/{dealer_id}/tier", role="manager",
                 json={"tier": "AAA", "reason": "x"}, field="tier")


def test_d8_reassignment_moves_the_dealer_to_another_salesperson(http: Http) -> None:
    dealer_id = register(http)
    body = http.ok("POST", f"/dealers/{dealer_id}/reassignment", role="manager",
                   json={"salesperson": "bob", "effective_on": "2026-03-01"})
    assert body["salesperson"] == "bob"
    http.refused(409, "POST", f"/dealers/{dealer_id}/reassignment", role="manager",
                 json={"salesperson": "bob", "effective_on": "2026-03-02"}, rule="D8")


def test_d7_incidents_by_manager_or_finance_and_termination(http: Http) -> None:
    publish_prices(http)
    dealer_id = onboard(http, "signed")
    for role, kind in (("manager", "violation"), ("finance", "bad_debt")):
        body = http.ok("POST", f"/dealers/{dealer_id}/incidents", role=role,
                       json={"kind": kind, "occurred_on": "2026-02-01", "note": "late"})
    assert [i["kind"] for i in body["incidents"]] == ["violation", "bad_debt"]
    http.refused(422, "POST", f"/dealers/{dealer_id}/incidents", role="manager",
                 json={"kind": "gossip"}, field="kind")
    body = http.ok("POST", f"/dealers/{dealer_id}/termination", role="manager",
                   json={"terminated_on": "2026-03-01", "reason": "violations"})
    assert body["status"] == "terminated" and body["terminated_on"] == "2026-03-01"
    http.refused(409, "POST", "/orders", role="sales",
                 json={"dealer_id": dealer_id, "client_ref": "late", "order_date": "2026-03-02",
                       "ship_to_region": "east", "payment": "prepaid",
                       "lines": [{"sku": "ROUTER", "qty": 1}]}, rule="O2")


def test_s1_repair_centre_opens_a_pool_for_a_tier_a_dealer_only(http: Http) -> None:
    a_dealer = onboard(http, "signed", tier="A")
    aa_dealer = onboard(http, "signed", tier="AA", name="Second")
    pool = http.ok("POST", f"/dealers/{a_dealer}/repair-centre", 201, role="manager",
                   json={"signed_on": "2026-02-01"})
    assert pool == {"pool": a_dealer, "region": "east", "opened_on": "2026-02-01",
                    "allocated": "0.00", "drawn": "0.00", "balance": "0.00", "allocations": [],
                    "closed_on": None}
    http.refused(409, "POST", f"/dealers/{aa_dealer}/repair-centre", role="manager", json={},
                 rule="S1")


def test_a_dealer_key_reads_and_forecasts_for_its_own_dealer_only(http: Http) -> None:
    own = onboard(http, "draft")
    other = onboard(http, "draft", name="Other")
    key = http.dealer_key(own)
    assert http.ok("GET", f"/dealers/{own}", key=key)["id"] == own
    http.refused(403, "GET", f"/dealers/{other}", key=key)
    months = {"months": [{"month": "2026-01", "amount": "5"}, {"month": "2026-02", "amount": "5"},
                         {"month": "2026-03", "amount": "5"}]}
    assert http.ok("POST", f"/dealers/{own}/forecasts", key=key, json=months)["status"] == (
        "forecast_submitted"
    )
    http.refused(403, "POST", f"/dealers/{other}/forecasts", key=key, json=months)
