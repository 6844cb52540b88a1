"""/price-list and /orders over HTTP: versions (P1, P2, P4), placement and idempotency (O1), approval
(P3, D9), the life cycle (O3, O4), returns and cancellation; each refusal writes nothing."""

from __future__ import annotations

from tests.integration.http_fixtures import (
    Http,
    fulfil,
    http,
    onboard,
    order_body,
    place,
    publish_prices,
)

__all__ = ["http"]


def test_p1_publishing_answers_the_version_with_tier_prices(http: Http) -> None:
    version = publish_prices(http)
    assert version["number"] == 1 and version["effective_from"] == "2026-01-01"
    router = next(i for i in version["items"] if i["sku"] == "ROUTER")
    assert router["tier_prices"] == {"A": "700.00", "AA": "780.00", "SI": "850.00",
                                     "END": "1000.00"}


def test_p2_a_version_without_price_distance_is_409_citing_p2(http: Http) -> None:
    items = [{"sku": "X", "name": "x", "list_price": "100.00", "floor_price": "90.00"}]
    http.refused(409, "PUT", "/price-list", role="manager",
                 json={"effective_from": "2026-01-01", "items": items}, rule="P2")
    http.refused(422, "PUT", "/price-list", role="manager",
                 json={"effective_from": "2026-01-01", "items": []}, field="items")


def test_p4_the_version_in_force_on_a_date_and_404_before_any(http: Http) -> None:
    publish_prices(http)
    publish_prices(http, "2026-06-01")
    assert http.ok("GET", "/price-list", role="auditor",
                   query={"on": "2026-05-31"})["number"] == 1
    assert http.ok("GET", "/price-list", role="finance")["number"] == 2  # today: 2026-07-15
    http.refused(404, "GET", "/price-list", role="sales", query={"on": "2025-12-31"})
    http.refused(422, "GET", "/price-list", role="sales", query={"on": "yesterday"}, field="on")


def test_o1_placing_answers_201_and_the_same_client_ref_again_200_with_the_same_order(
    http: Http,
) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    body = order_body(dealer_id, "po-1", lines=[{"sku": "ROUTER", "qty": 2}])
    first = http.ok("POST", "/orders", 201, role="sales", json=body)
    assert first["status"] == "confirmed" and first["total"] == "1400.00"
    assert first["needs_approval"] is False and first["id"]
    position = http.position()
    again = http.ok("POST", "/orders", 200, role="sales", json=body)
    assert again == first
    assert http.position() == position  # the repeat wrote nothing
    assert http.ok("GET", f"/orders/{first['id']}", role="finance") == first


def test_o1_the_same_client_ref_for_another_order_is_409(http: Http) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    place(http, dealer_id, "po-1")
    http.refused(409, "POST", "/orders", role="sales", rule="O1",
                 json=order_body(dealer_id, "po-1", lines=[{"sku": "SWITCH", "qty": 1}]))


def test_o1_order_fields_are_checked_field_by_field(http: Http) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    bad = {**order_body(dealer_id, ""), "payment": "barter",
           "lines": [{"sku": "ROUTER", "qty": 0, "unit_price": "1.234"}]}
    body = http.refused(422, "POST", "/orders", role="sales", json=bad)
    assert {"client_ref", "payment", "lines.0.qty", "lines.0.unit_price"} <= set(body["errors"])
    http.refused(422, "POST", "/orders", role="sales",
                 json={**order_body(dealer_id, "x"), "lines": [{"sku": "ROUTER", "qty": 1.5}]},
                 field="lines.0.qty")
    http.refused(422, "POST", "/orders", role="sales",
                 json={**order_body(dealer_id, "x"), "dealer_id": "not-a-uuid"}, field="dealer_id")


def test_p1_an_unknown_sku_is_409_and_an_unknown_dealer_404(http: Http) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    http.refused(409, "POST", "/orders", role="sales", rule="P1",
                 json=order_body(dealer_id, "x", lines=[{"sku": "NOPE", "qty": 1}]))
    http.refused(404, "POST", "/orders", role="sales",
                 json=order_body("00000000-0000-0000-0000-000000000001", "x"))


def test_p3_a_price_below_tier_waits_for_a_manager_and_below_floor_is_refused(
    http: Http,
) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    order = place(http, dealer_id, "cheap", lines=[{"sku": "ROUTER", "qty": 1,
                                                    "unit_price": "650.00"}])
    assert order["status"] == "awaiting_approval" and order["needs_approval"] is True
    assert order["approvals"][0]["rule"] == "P3"
    http.refused(409, "POST", f"/orders/{order['id']}/shipment", role="sales", json={},
                 rule="O3")
    http.refused(422, "POST", f"/orders/{order['id']}/approval", role="manager",
                 json={"approve": "yes"}, field="approve")
    approved = http.ok("POST", f"/orders/{order['id']}/approval", role="manager",
                       json={"approve": True, "note": "campaign", "decided_on": "2026-01-11"})
    assert approved["status"] == "confirmed" and approved["decision"]["approved"] is True
    http.refused(409, "POST", f"/orders/{order['id']}/approval", role="manager",
                 json={"approve": True}, rule="P3")
    http.refused(409, "POST", "/orders", role="sales", rule="P3",
                 json=order_body(dealer_id, "too-cheap",
                                 lines=[{"sku": "ROUTER", "qty": 1, "unit_price": "599.99"}]))


def test_d9_an_order_shipped_to_another_region_needs_approval_and_can_be_rejected(
    http: Http,
) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    order = place(http, dealer_id, "west", region="west")
    assert order["approvals"][0]["rule"] == "D9"
    rejected = http.ok("POST", f"/orders/{order['id']}/approval", role="manager",
                       json={"approve": False, "note": "stay in your region"})
    assert rejected["status"] == "rejected"


def test_o3_o4_a_prepaid_order_ships_once_paid_then_is_delivered_and_returned(
    http: Http,
) -> None:
    publish_prices(http)
    dealer_id = onboard(http)
    order = place(http, dealer_id, "po", lines=[{"sku": "ROUTER", "qty": 2}])
    order_id = order["id"]
    http.refused(409, "POST", f"/orders/{order_id}/shipment", role="sales", json={}, rule="O4")
    http.refused(409, "POST", f"/orders/{order_id}/payments", role="finance",
                 json={"paid_on": "2026-01-12", "amount": "1400.01"}, rule="O3")
    http.refused(422, "POST", f"/orders/{order_id}/payments", role="finance",
                 json={"paid_on": "2026-01-12"}, field="amount")
    delivered = fulfil(http, order, "2026-01-12")
    assert delivered["status"] == "paid" and delivered["outstanding"] == "0.00"
    returned = http.ok("POST", f"/orders/{order_id}/returns", role="sales",
                       json={"returned_on": "2026-01-20", "lines": [{"sku": "ROUTER", "qty": 1}]})
    assert returned["returns"][0]["value"] == "700.00"
    http.refused(409, "POST", f"/orders/{order_id}/returns", role="sales", rule="O3",
                 json={"returned_on": "2026-01-21", "lines": [{"sku": "ROUTER", "qty": 2}]})
    http.refused(409, "POST", f"/orders/{order_id}/cancellation", role="sales", json={},
                 rule="O3")


def test_o3_the_dealer_cancels_its_own_open_order_but_not_another_dealers(http: Http) -> None:
    publish_prices(http)
    own, other = onboard(http), onboard(http, name="Other")
    key = http.dealer_key(own)
    mine = http.ok("POST", "/orders", 201, key=key, json=order_body(own, "mine"))
    theirs = place(http, other, "theirs")
    http.refused(403, "POST", "/orders", key=key, json=order_body(other, "not-mine"))
    http.refused(403, "POST", f"/orders/{theirs['id']}/cancellation", key=key, json={})
    http.refused(403, "GET", f"/orders/{theirs['id']}", key=key)
    cancelled = http.ok("POST", f"/orders/{mine['id']}/cancellation", key=key,
                        json={"reason": "changed my mind", "cancelled_on": "2026-01-11"})
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation"] == {"reason": "changed my mind",
                                         "cancelled_on": "2026-01-11", "was": "confirmed"}


def test_an_unknown_order_is_404_for_every_role_that_may_see_orders(http: Http) -> None:
    missing = "/orders/00000000-0000-0000-0000-000000000002"
    for role in ("sales", "manager", "finance", "auditor"):
        http.refused(404, "GET", missing, role=role)
    http.refused(404, "POST", f"{missing}/delivery", role="sales", json={})
