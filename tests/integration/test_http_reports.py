"""The read side over HTTP: dealer and order lists, period closes (O6) with their slips (R5, R6) and
spare-parts allocations (S2, S3), the rebate ledger and its explanation (R7), the performance
tables (K1–K5); each scoped to the caller."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.http_fixtures import Http, fulfil, http, onboard, place, publish_prices

__all__ = ["http"]


@pytest.fixture
def january(http: Http) -> dict[str, Any]:
    """Two tier-A dealers in the east: `big` delivers 15 routers (10,500.00, above its agreed
    10,000: R2 earns 2 %), `small` one router; `big` is the region's repair centre; January is
    closed on 2026-02-01."""
    publish_prices(http)
    big, small = onboard(http, name="Big"), onboard(http, name="Small", salesperson="bob")
    http.ok("POST", f"/dealers/{big}/repair-centre", 201, role="manager",
            json={"signed_on": "2026-01-06"})
    fulfil(http, place(http, big, "b1", lines=[{"sku": "ROUTER", "qty": 15}]), "2026-01-20")
    fulfil(http, place(http, small, "s1"), "2026-01-21")
    close = http.ok("POST", "/periods/2026-01/close", role="finance",
                    json={"closed_on": "2026-02-01"})
    return {"big": big, "small": small, "close": close}


def test_lists_of_dealers_and_orders_filter_and_scope_to_a_dealer_key(
    http: Http, january: dict[str, Any]
) -> None:
    big, small = january["big"], january["small"]
    listed = http.ok("GET", "/dealers", role="auditor", query={"region": "east", "tier": "A"})
    assert {d["dealer_id"] for d in listed["dealers"]} == {big, small}
    assert http.ok("GET", "/dealers", role="sales", query={"tier": "SI"}) == {"dealers": []}
    key = http.dealer_key(small)
    assert [d["dealer_id"] for d in http.ok("GET", "/dealers", key=key)["dealers"]] == [small]
    orders = http.ok("GET", "/orders", role="finance", query={"dealer_id": big})["orders"]
    assert [(o["client_ref"], o["status"], o["total"]) for o in orders] == [
        ("b1", "paid", "10500.00")
    ]
    assert [o["client_ref"] for o in http.ok("GET", "/orders", key=key)["orders"]] == ["s1"]
    http.refused(403, "GET", "/orders", key=key, query={"dealer_id": big})
    http.refused(422, "GET", "/orders", role="sales", query={"status": "lost"}, field="status")


def test_o6_months_close_in_order_and_a_closed_month_takes_no_delivery(
    http: Http, january: dict[str, Any]
) -> None:
    assert january["close"]["month"] == "2026-01" and january["close"]["covers_to"] > 0
    http.refused(409, "POST", "/periods/2026-01/close", role="finance", json={}, rule="O6")
    http.refused(409, "POST", "/periods/2026-03/close", role="finance", json={}, rule="O6")
    http.refused(422, "POST", "/periods/2026-13/close", role="finance", json={}, field="month")
    late = place(http, january["small"], "late", on="2026-01-25")
    http.ok("POST", f"/orders/{late['id']}/payments", role="finance",
            json={"paid_on": "2026-02-02", "amount": late["total"]})
    http.ok("POST", f"/orders/{late['id']}/shipment", role="sales", json={"shipped_on": "2026-01-30"})
    http.refused(409, "POST", f"/orders/{late['id']}/delivery", role="sales",
                 json={"delivered_on": "2026-01-31"}, rule="O6")


def test_r5_the_close_issues_a_slip_per_dealer_that_the_dealer_confirms(
    http: Http, january: dict[str, Any]
) -> None:
    big = january["big"]
    key = http.dealer_key(big)
    slips = http.ok("GET", "/rebate-slips", key=key, query={"period": "2026-01"})["slips"]
    assert len(slips) == 1
    slip = slips[0]
    assert slip["dealer_id"] == big and slip["status"] == "issued"
    monthly = slip["lines"][0]
    assert (monthly["kind"], monthly["basis"], monthly["rate"], monthly["amount"]) == (
        "monthly", "10500.00", "0.020", "210.00"
    )
    assert http.ok("GET", f"/rebate-slips/{slip['slip_id']}", role="auditor") == slip
    confirmed = http.ok("POST", f"/rebate-slips/{slip['slip_id']}/confirmation", key=key,
                        json={"confirmed_on": "2026-02-03"})
    assert confirmed["status"] == "confirmed" and confirmed["confirmed_on"] == "2026-02-03"
    http.refused(409, "POST", f"/rebate-slips/{slip['slip_id']}/confirmation", key=key, json={},
                 rule="R6")


def test_r6_a_dispute_is_resolved_by_finance_with_a_correction(
    http: Http, january: dict[str, Any]
) -> None:
    small = january["small"]
    key = http.dealer_key(small)
    slip = http.ok("GET", "/rebate-slips", role="finance", query={"dealer_id": small})["slips"][0]
    path = f"/rebate-slips/{slip['slip_id']}"
    http.refused(422, "POST", f"{path}/disputes", key=key, json={"lines": []}, field="lines")
    http.refused(404, "POST", f"{path}/disputes", key=key,  # an unknown line, as an unknown id
                 json={"lines": [{"line": 99, "reason": "no such line"}]})
    disputed = http.ok("POST", f"{path}/disputes", key=key,
                       json={"lines": [{"line": 1, "reason": "we reached the amount"}],
                             "disputed_on": "2026-02-03"})
    assert disputed["status"] == "disputed" and disputed["lines"][0]["status"] == "disputed"
    http.refused(409, "POST", f"{path}/confirmation", key=key, json={}, rule="R6")
    http.refused(422, "POST", f"{path}/resolutions", role="finance", field="amount",
                 json={"dispute": 1, "accept": True, "resolved_on": "2026-02-04"})
    resolved = http.ok("POST", f"{path}/resolutions", role="finance",
                       json={"dispute": 1, "accept": True, "amount": "14.00",
                             "note": "goodwill", "resolved_on": "2026-02-04"})
    assert resolved["status"] == "resolved"
    assert resolved["disputes"][0]["resolution"]["amount"] == "14.00"
    entries = http.ok("GET", "/reports/rebates", key=key, query={"period": "2026-02"})["entries"]
    assert [(e["kind"], e["amount"]) for e in entries if e["kind"] == "correction"] == [
        ("correction", "14.00")
    ]


def test_r6_finance_rejects_a_dispute_with_a_reason_and_the_dealer_may_then_confirm(
    http: Http, january: dict[str, Any]
) -> None:
    key = http.dealer_key(january["big"])
    slip = http.ok("GET", "/rebate-slips", key=key)["slips"][0]
    path = f"/rebate-slips/{slip['slip_id']}"
    http.ok("POST", f"{path}/disputes", key=key,
            json={"lines": [{"line": 1, "reason": "too low"}], "disputed_on": "2026-02-03"})
    http.refused(422, "POST", f"{path}/resolutions", role="finance", field="note",
                 json={"dispute": 1, "accept": False, "resolved_on": "2026-02-04"})
    http.refused(404, "POST", f"{path}/resolutions", role="finance",  # an unknown dispute
                 json={"dispute": 2, "accept": False, "note": "no such dispute"})
    rejected = http.ok("POST", f"{path}/resolutions", role="finance",
                       json={"dispute": 1, "accept": False, "note": "figures are right",
                             "resolved_on": "2026-02-04"})
    assert rejected["disputes"][0]["status"] == "rejected"
    assert rejected["lines"][0]["status"] == "rejected"
    http.refused(409, "POST", f"{path}/resolutions", role="finance", rule="R6",
                 json={"dispute": 1, "accept": False, "note": "again"})
    confirmed = http.ok("POST", f"{path}/confirmation", key=key, json={})
    assert confirmed["status"] == "confirmed"
    http.refused(404, "POST", "/rebate-slips/00000000-0000-0000-0000-000000000006/resolutions",
                 role="finance", json={"dispute": 1, "accept": False, "note": "x"})


def test_r6_only_the_slips_dealer_answers_it(http: Http, january: dict[str, Any]) -> None:
    slip = http.ok("GET", "/rebate-slips", role="manager",
                   query={"dealer_id": january["big"]})["slips"][0]
    other = http.dealer_key(january["small"])
    http.refused(403, "GET", f"/rebate-slips/{slip['slip_id']}", key=other)
    http.refused(403, "POST", f"/rebate-slips/{slip['slip_id']}/confirmation", key=other, json={})
    http.refused(403, "POST", f"/rebate-slips/{slip['slip_id']}/confirmation", role="finance",
                 json={})
    http.refused(404, "GET", "/rebate-slips/00000000-0000-0000-0000-000000000005", role="finance")


def test_r5_r7_the_ledger_is_posted_after_the_close_and_each_figure_is_explained(
    http: Http, january: dict[str, Any]
) -> None:
    big = january["big"]
    entries = http.ok("GET", "/reports/rebates", role="finance",
                      query={"period": "2026-01", "dealer_id": big})["entries"]
    assert [(e["period"], e["kind"], e["status"], e["amount"]) for e in entries] == [
        ("2026-01", "monthly", "posted", "210.00")
    ]
    quarter = http.ok("GET", "/reports/rebates", role="manager", query={"period": "2026-Q1"})
    assert {(e["period"], e["status"]) for e in quarter["entries"] if e["dealer_id"] == big} == {
        ("2026-01", "posted"), ("2026-02", "accrued"), ("2026-03", "accrued"),
        ("2026-Q1", "accrued"),
    }
    explained = http.ok("GET", f"/reports/rebates/{big}/2026-01/explanation", role="auditor")
    assert explained["net_sales"] == "10500.00"
    assert [d["value"] for d in explained["deliveries"]] == ["10500.00"]
    assert explained["deliveries"][0]["lines"][0]["qty"] == 15
    http.refused(422, "GET", f"/reports/rebates/{big}/2026/explanation", role="auditor",
                 field="period")
    http.refused(403, "GET", f"/reports/rebates/{big}/2026-01/explanation",
                 key=http.dealer_key(january["small"]))
    http.refused(422, "GET", "/reports/rebates", role="finance", query={"period": "2026"},
                 field="period")


def test_s2_s3_the_close_allocates_the_pool_and_its_dealer_draws_within_the_balance(
    http: Http, january: dict[str, Any]
) -> None:
    big = january["big"]
    http.refused(422, "GET", "/reports/spare-budgets", role="finance", query={"month": "2026-1"},
                 field="month")
    pools = http.ok("GET", "/reports/spare-budgets", role="finance",
                    query={"month": "2026-01"})["pools"]
    east = next(p for p in pools if p["pool"] == big)
    # 1 % of the east's January net sales: 10,500.00 + 700.00.
    assert (east["basis"], east["allocated"], east["status"]) == ("11200.00", "112.00", "allocated")
    key = http.dealer_key(big)
    pool = http.ok("POST", f"/spare-parts/{big}/draws", key=key,
                   json={"drawn_on": "2026-02-05", "part": "fan", "qty": 2, "value": "100.00"})
    assert pool["balance"] == "12.00"
    http.refused(409, "POST", f"/spare-parts/{big}/draws", role="manager", rule="S3",
                 json={"drawn_on": "2026-02-06", "part": "psu", "qty": 1, "value": "12.01"})
    http.refused(403, "POST", f"/spare-parts/{big}/draws", key=http.dealer_key(january["small"]),
                 json={"part": "fan", "qty": 1, "value": "1.00"})
    http.refused(404, "POST", f"/spare-parts/{january['small']}/draws", role="manager",
                 json={"part": "fan", "qty": 1, "value": "1.00"})


def test_k2_k3_k5_rankings_and_statistics(http: Http, january: dict[str, Any]) -> None:
    rows = http.ok("GET", "/reports/dealers", role="manager", query={"period": "2026-01"})["rows"]
    assert [(r["rank"], r["dealer_id"], r["net_sales"]) for r in rows] == [
        (1, january["big"], "10500.00"), (2, january["small"], "700.00")
    ]
    east = http.ok("GET", "/reports/dealers", role="auditor",
                   query={"period": "2026-Q1", "region": "east"})["rows"]
    assert [r["rank"] for r in east] == [1, 2]
    people = http.ok("GET", "/reports/salespeople", role="auditor",
                     query={"period": "2026-01"})["rows"]
    alice = next(r for r in people if r["salesperson"] == "alice")
    assert (alice["rank"], alice["net_sales"], alice["quota"]) == (1, "10500.00", "375000.00")
    assert alice["achievement"] == "0.0280"
    stats = http.ok("GET", "/reports/statistics", role="manager", query={"period": "2026-01"})
    assert stats["totals"]["net_sales"] == "11200.00"


def test_k1_the_weekly_report_is_a_salespersons_own_or_a_managers(
    http: Http, january: dict[str, Any]
) -> None:
    query = {"salesperson": "alice", "week": "2026-W04"}  # 19–25 January
    week = http.ok("GET", "/reports/weekly", key=http.sales_key("alice"), query=query)
    assert week["net_sales"] == "10500.00" and week["from"] == "2026-01-19"
    assert http.ok("GET", "/reports/weekly", role="manager", query=query) == week
    http.refused(403, "GET", "/reports/weekly", key=http.sales_key("bob"), query=query)
    http.refused(403, "GET", "/reports/weekly", role="sales", query=query)
    http.refused(422, "GET", "/reports/weekly", role="manager",
                 query={"salesperson": "alice", "week": "2026-W60"}, field="week")
