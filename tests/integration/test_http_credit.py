"""/credit over HTTP: the rating with its failed criteria (C1, C2), the line's figures (C3), credit
orders (O4) and suspension by an incident (C4)."""

from __future__ import annotations

from typing import Any

from tests.integration.http_fixtures import Http, http, onboard, order_body, place, publish_prices

__all__ = ["http"]


def rated(http: Http, attested: bool = True) -> tuple[str, dict[str, Any]]:
    """A tier-A dealer whose first three agreement months each reached 10,000 (15 routers at
    700.00 a month), evaluated on 2026-04-01."""
    publish_prices(http)
    dealer_id = onboard(http)
    for i, month in enumerate(("01", "02", "03")):
        place(http, dealer_id, f"q{i}", on=f"2026-{month}-10",
              lines=[{"sku": "ROUTER", "qty": 15}])
    result = http.ok("POST", f"/credit/{dealer_id}/evaluation", role="manager",
                     json={"as_of": "2026-04-01", "market_development_attested": attested})
    return dealer_id, result


def test_c2_a_rating_that_meets_all_five_criteria_opens_the_line_c3(http: Http) -> None:
    dealer_id, result = rated(http)
    assert result["eligible"] is True and result["failed_criteria"] == []
    assert result["details"]["2"]["met"] is True
    assert result["details"]["2"]["months"][0] == {
        "month": "2026-01", "order_value": "10500.00", "agreed": "10000"
    }
    line = http.ok("GET", f"/credit/{dealer_id}", role="finance")
    assert line == result["credit"]
    assert (line["status"], line["limit"], line["available"]) == ("open", "10000.00", "10000.00")


def test_c2_the_evaluation_names_each_failed_criterion(http: Http) -> None:
    dealer_id, result = rated(http, attested=False)
    assert result["eligible"] is False and result["failed_criteria"] == [4]
    assert http.ok("GET", f"/credit/{dealer_id}", role="auditor")["status"] == "none"


def test_c1_only_tier_a_can_be_rated(http: Http) -> None:
    dealer_id = onboard(http, tier="AA")
    http.refused(409, "POST", f"/credit/{dealer_id}/evaluation", role="manager", json={},
                 rule="C1")
    http.refused(422, "POST", f"/credit/{dealer_id}/evaluation", role="manager",
                 json={"market_development_attested": "true"},
                 field="market_development_attested")


def test_c3_a_credit_order_reserves_and_one_beyond_the_limit_is_refused(http: Http) -> None:
    dealer_id, _ = rated(http)
    order = place(http, dealer_id, "c1", on="2026-04-10", payment="credit",
                  lines=[{"sku": "ROUTER", "qty": 10}])
    assert order["status"] == "confirmed"
    line = http.ok("GET", f"/credit/{dealer_id}", role="manager")
    assert (line["reserved"], line["available"]) == ("7000.00", "3000.00")
    http.refused(409, "POST", "/orders", role="sales", rule="C3",
                 json=order_body(dealer_id, "c2", on="2026-04-11", payment="credit",
                                 lines=[{"sku": "ROUTER", "qty": 5}]))


def test_o4_a_dealer_without_credit_cannot_order_on_credit(http: Http) -> None:
    publish_prices(http)
    dealer_id = onboard(http, tier="AA")
    http.refused(409, "POST", "/orders", role="sales", rule="O4",
                 json=order_body(dealer_id, "c", payment="credit"))


def test_c4_an_incident_suspends_the_line_at_once(http: Http) -> None:
    dealer_id, _ = rated(http)
    http.ok("POST", f"/dealers/{dealer_id}/incidents", role="finance",
            json={"kind": "dispute", "occurred_on": "2026-04-05"})
    line = http.ok("GET", f"/credit/{dealer_id}", role="finance")
    assert line["status"] == "suspended" and line["suspension"]["on"] == "2026-04-05"


def test_a_dealer_sees_its_own_credit_line_only(http: Http) -> None:
    publish_prices(http)
    own, other = onboard(http), onboard(http, name="Other")
    key = http.dealer_key(own)
    assert http.ok("GET", f"/credit/{own}", key=key)["status"] == "none"
    http.refused(403, "GET", f"/credit/{other}", key=key)
    http.refused(404, "GET", "/credit/00000000-0000-0000-0000-000000000003", role="finance")
