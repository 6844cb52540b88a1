"""End to end: gunicorn as a real process on PostgreSQL, the demo scenario (examples/ml_company.py:
Q2 2026 of the "ml company") driven over HTTP, and its reports read back over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import pytest

from examples.ml_company import DEALERS, PRICE_LIST
from tests.e2e.server import Client, Server, gunicorn, priced_buyer


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    with gunicorn(pg_url, tmp_path, workers=3).start() as running:
        yield running


@pytest.fixture
def api(server: Server) -> Client:
    return Client(server.url, server.keys)


class Scenario:
    """The demo's story over HTTP: refusals are asserted as they happen."""

    def __init__(self, api: Client) -> None:
        self.api = api
        self.ids: dict[str, str] = {}
        self.orders: dict[str, dict[str, Any]] = {}

    def refused(self, status: int, rule: str | None, method: str, path: str, **kw: Any) -> None:
        response = self.api.call(method, path, **kw)
        body = response.json()
        assert (response.status_code, body.get("rule")) == (status, rule), body

    def order(self, key: str, ref: str, day: str, lines: list[dict[str, Any]],
              payment: str = "prepaid", ship_to: str | None = None, status: int = 201) -> Any:
        body = {"dealer_id": self.ids[key], "client_ref": ref, "order_date": day,
                "ship_to_region": ship_to or DEALERS[key][1], "payment": payment, "lines": lines}
        self.orders[ref] = self.api.ok("POST", "/orders", status, role="sales", json=body)
        return self.orders[ref]

    def fulfil(self, ref: str, paid: str | None, shipped: str, delivered: str) -> None:
        order = self.orders[ref]
        path = f"/orders/{order['id']}"
        if paid:
            self.api.ok("POST", f"{path}/payments", role="finance",
                        json={"paid_on": paid, "amount": order["total"]})
        self.api.ok("POST", f"{path}/shipment", role="sales", json={"shipped_on": shipped})
        self.api.ok("POST", f"{path}/delivery", role="sales", json={"delivered_on": delivered})

    def approve(self, ref: str, day: str, note: str) -> None:
        order = self.api.ok("POST", f"/orders/{self.orders[ref]['id']}/approval", role="manager",
                            json={"approve": True, "note": note, "decided_on": day})
        assert order["status"] == "confirmed"

    def close(self, month: str, day: str) -> None:
        self.api.ok("POST", f"/periods/{month}/close", role="finance", json={"closed_on": day})

    def run(self) -> None:
        api = self.api
        api.ok("PUT", "/price-list", 201, role="manager",
               json={"effective_from": "2026-03-01", "items": PRICE_LIST})
        self.refused(409, "P2", "PUT", "/price-list", role="manager", json={
            "effective_from": "2026-03-02",
            "items": [{"sku": "ML-X", "name": "bad", "list_price": "1000", "floor_price": "900"}],
        })
        for key, (name, region, tier, salesperson, contact, _) in DEALERS.items():
            self.ids[key] = api.ok("POST", "/dealers", 201, role="sales", json={
                "name": name, "region": region, "tier": tier, "salesperson": salesperson,
                "contact": contact, "registered_on": "2026-03-02"})["id"]
        self.refused(409, "D2", "POST", f"/dealers/{self.ids['nanjing']}/formal-agreement",
                     role="manager", json={"signed_on": "2026-03-03", "monthly_amount": "50000",
                                           "term_months": 12})
        for key, (_, _, tier, _, _, amount) in DEALERS.items():
            if tier == "END":
                continue
            path = f"/dealers/{self.ids[key]}"
            api.ok("POST", f"{path}/draft-agreement", role="sales", json={"signed_on": "2026-03-05"})
            api.ok("POST", f"{path}/forecasts", role="sales", json={"months": [
                {"month": m, "amount": amount} for m in ("2026-04", "2026-05", "2026-06")]})
            api.ok("POST", f"{path}/formal-agreement", role="manager", json={
                "signed_on": "2026-03-20", "monthly_amount": amount, "term_months": 12})
        api.ok("POST", f"/dealers/{self.ids['shanghai']}/repair-centre", 201, role="manager",
               json={"signed_on": "2026-04-01"})
        self.refused(409, "S1", "POST", f"/dealers/{self.ids['hangzhou']}/repair-centre",
                     role="manager", json={"signed_on": "2026-04-01"})
        self.april()
        self.close("2026-04", "2026-05-01")
        self.may()
        self.close("2026-05", "2026-06-01")
        self.june()
        self.close("2026-06", "2026-07-01")
        self.july()

    def april(self) -> None:
        for key, ref, day, sku, qty, (paid, shipped, delivered) in (
            ("shanghai", "SH-001", "2026-04-02", "ML-R1000", 20, ("04-03", "04-06", "04-08")),
            ("beijing", "BJ-001", "2026-04-10", "ML-R1000", 15, ("04-12", "04-15", "04-20")),
            ("hangzhou", "HZ-001", "2026-04-15", "ML-AP300", 100, ("04-16", "04-20", "04-25")),
            ("guangzhou", "GZ-001", "2026-04-20", "ML-R1000", 5, ("04-21", "04-24", "04-28")),
            ("nanjing", "NJ-001", "2026-04-22", "ML-AP300", 40, ("04-23", "04-26", "04-29")),
        ):
            self.order(key, ref, day, [{"sku": sku, "qty": qty}])
            self.fulfil(ref, f"2026-{paid}", f"2026-{shipped}", f"2026-{delivered}")
        first = self.orders["NJ-001"]
        again = self.order("nanjing", "NJ-001", "2026-04-22", [{"sku": "ML-AP300", "qty": 40}],
                           status=200)  # O1: the retry is the same order
        assert again["id"] == first["id"]

    def may(self) -> None:
        self.order("shanghai", "SH-002", "2026-05-06", [{"sku": "ML-S4800", "qty": 30}])
        self.fulfil("SH-002", "2026-05-07", "2026-05-09", "2026-05-12")
        below_floor = [{"sku": "ML-S4800", "qty": 40, "unit_price": "9000"}]
        self.refused(409, "P3", "POST", "/orders", role="sales", json={
            "dealer_id": self.ids["beijing"], "client_ref": "BJ-002", "order_date": "2026-05-08",
            "ship_to_region": "north", "payment": "prepaid", "lines": below_floor})
        order = self.order("beijing", "BJ-002", "2026-05-08",
                           [{"sku": "ML-S4800", "qty": 40, "unit_price": "10000"}])
        assert order["status"] == "awaiting_approval"
        self.approve("BJ-002", "2026-05-09", "project win at Beijing University")
        self.fulfil("BJ-002", "2026-05-10", "2026-05-14", "2026-05-20")
        order = self.order("hangzhou", "HZ-002", "2026-05-20", [{"sku": "ML-S4800", "qty": 10}],
                           ship_to="north")
        assert order["approvals"][0]["rule"] == "D9"
        self.approve("HZ-002", "2026-05-21", "customer's branch office in Tianjin")
        self.fulfil("HZ-002", "2026-05-22", "2026-05-25", "2026-05-28")
        self.order("guangzhou", "GZ-002", "2026-05-11", [{"sku": "ML-S2400", "qty": 10}])
        self.fulfil("GZ-002", "2026-05-12", "2026-05-14", "2026-05-18")
        self.order("hospital", "SZ-001", "2026-05-15", [{"sku": "ML-R1000", "qty": 2}])
        self.refused(409, "O4", "POST", f"/orders/{self.orders['SZ-001']['id']}/shipment",
                     role="sales", json={"shipped_on": "2026-05-16"})
        self.fulfil("SZ-001", "2026-05-17", "2026-05-18", "2026-05-22")
        self.api.ok("POST", f"/spare-parts/{self.ids['shanghai']}/draws", role="manager", json={
            "drawn_on": "2026-05-20", "part": "ML-S2400 power supply", "qty": 2, "value": "1200"})

    def june(self) -> None:
        api = self.api
        self.order("shanghai", "SH-003", "2026-06-03",
                   [{"sku": "ML-S2400", "qty": 50}, {"sku": "ML-AP300", "qty": 25}])
        self.fulfil("SH-003", "2026-06-04", "2026-06-07", "2026-06-10")
        self.order("beijing", "BJ-003", "2026-06-08", [{"sku": "ML-S2400", "qty": 20}])
        self.fulfil("BJ-003", "2026-06-09", "2026-06-12", "2026-06-16")
        self.order("hangzhou", "HZ-004", "2026-06-12", [{"sku": "ML-R1000", "qty": 3}])
        api.ok("POST", f"/orders/{self.orders['HZ-004']['id']}/cancellation", role="sales",
               json={"reason": "customer postponed", "cancelled_on": "2026-06-13"})
        self.order("guangzhou", "GZ-004", "2026-06-25", [{"sku": "ML-S2400", "qty": 5}])
        gz4 = self.orders["GZ-004"]["id"]
        api.ok("POST", f"/orders/{gz4}/payments", role="finance",
               json={"paid_on": "2026-06-26", "amount": "31200"})
        api.ok("POST", f"/orders/{gz4}/shipment", role="sales", json={"shipped_on": "2026-06-29"})
        api.ok("POST", f"/orders/{self.orders['SH-002']['id']}/returns", role="sales",
               json={"returned_on": "2026-06-15", "lines": [{"sku": "ML-S4800", "qty": 2}]})
        credit_order = {"dealer_id": self.ids["shanghai"], "order_date": "2026-06-20",
                        "ship_to_region": "east", "payment": "credit",
                        "lines": [{"sku": "ML-R1000", "qty": 12}]}
        self.refused(409, "O4", "POST", "/orders", role="sales",
                     json={**credit_order, "client_ref": "SH-004"})
        rating = api.ok("POST", f"/credit/{self.ids['shanghai']}/evaluation", role="manager",
                        json={"as_of": "2026-06-26", "market_development_attested": True})
        assert (rating["eligible"], rating["credit"]["limit"]) == (True, "300000.00")
        self.refused(409, "C3", "POST", "/orders", role="sales", json={
            **credit_order, "client_ref": "SH-005", "order_date": "2026-06-27",
            "lines": [{"sku": "ML-R1000", "qty": 20}]})
        self.order("shanghai", "SH-004", "2026-06-27", [{"sku": "ML-R1000", "qty": 12}], "credit")
        self.fulfil("SH-004", None, "2026-06-28", "2026-06-29")
        line = api.ok("GET", f"/credit/{self.ids['shanghai']}", role="finance")
        assert (line["receivable"], line["available"]) == ("252000.00", "48000.00")

    def july(self) -> None:
        gz4 = self.orders["GZ-004"]["id"]
        self.refused(409, "O6", "POST", f"/orders/{gz4}/delivery", role="sales",
                     json={"delivered_on": "2026-06-30"})
        self.api.ok("POST", f"/orders/{gz4}/delivery", role="sales",
                    json={"delivered_on": "2026-07-02"})
        self.api.ok("POST", f"/orders/{self.orders['SH-004']['id']}/payments", role="finance",
                    json={"paid_on": "2026-07-20", "amount": "252000"})


def test_the_demo_scenario_over_http_on_gunicorn_and_postgresql(api: Client,
                                                                 server: Server) -> None:
    scenario = Scenario(api)
    scenario.run()
    ids = scenario.ids
    names = {v: k for k, v in ids.items()}

    # R2/R5: April's posted monthly rebates, tier rate on April's net sales (all reached).
    april = api.ok("GET", "/reports/rebates", role="finance", params={"period": "2026-04"})
    assert {(names[e["dealer_id"]], e["status"], e["amount"]) for e in april["entries"]} == {
        ("shanghai", "posted", "8400.00"), ("beijing", "posted", "6300.00"),
        ("hangzhou", "posted", "2340.00"), ("guangzhou", "posted", "1755.00"),
        ("nanjing", "posted", "680.00"),
    }
    # R3: Shanghai's Q2 net sales 1,281,000.00 reach the 1,000,000 bracket: 2 % of it all.
    quarter = api.ok("GET", "/reports/rebates", role="auditor",
                     params={"period": "2026-Q2", "dealer_id": ids["shanghai"]})
    q2 = next(e for e in quarter["entries"] if e["kind"] == "quarterly")
    assert (q2["status"], q2["basis"], q2["rate"], q2["amount"]) == (
        "posted", "1281000.00", "0.020", "25620.00"
    )
    explained = api.ok("GET", f"/reports/rebates/{ids['shanghai']}/2026-06/explanation",
                       role="manager")
    assert [r["value"] for r in explained["returns"]] == ["-21000.00"]

    # R5/R6: Shanghai's dealer key reads and confirms its June slip, and sees no one else's.
    dealer_key = api.ok("POST", "/api-keys", 201, role="admin",
                        json={"role": "dealer", "dealer_id": ids["shanghai"]})["key"]
    slips = api.ok("GET", "/rebate-slips", key=dealer_key, params={"period": "2026-06"})["slips"]
    assert [s["dealer_id"] for s in slips] == [ids["shanghai"]]
    assert [line["kind"] for line in slips[0]["lines"]] == ["monthly", "quarterly"]
    confirmed = api.ok("POST", f"/rebate-slips/{slips[0]['slip_id']}/confirmation",
                       key=dealer_key, json={"confirmed_on": "2026-07-03"})
    assert confirmed["status"] == "confirmed"
    assert api.call("GET", f"/credit/{ids['beijing']}", key=dealer_key).status_code == 403

    # S2/S3: the east pool's June month; K3/K2/K1: the performance tables.
    pools = api.ok("GET", "/reports/spare-budgets", role="finance", params={"month": "2026-06"})
    east = next(p for p in pools["pools"] if p["pool"] == ids["shanghai"])
    assert east["status"] == "allocated" and east["drawn"] == "0.00"
    ranking = api.ok("GET", "/reports/dealers", role="manager", params={"period": "2026-Q2"})
    assert names[ranking["rows"][0]["dealer_id"]] == "shanghai"
    people = api.ok("GET", "/reports/salespeople", role="auditor", params={"period": "2026-06"})
    assert people["rows"][0]["salesperson"] == "wang"
    week = api.ok("GET", "/reports/weekly", role="manager",
                  params={"salesperson": "wang", "week": "2026-W24"})
    assert week["week"] == "2026-W24" and week["net_sales"]

    # Every request was logged with its request id, never with a key.
    log = server.log()
    assert "POST /periods/2026-06/close 200" in log
    assert all(key not in log for key in server.keys.values()) and dealer_key not in log


def test_o1_the_same_order_sent_concurrently_is_placed_once(api: Client) -> None:
    dealer_id = priced_buyer(api)
    body = {"dealer_id": dealer_id, "client_ref": "PO-1", "order_date": "2026-04-01",
            "ship_to_region": "east", "payment": "prepaid",
            "lines": [{"sku": "ML-AP300", "qty": 3}]}
    senders = 8
    start = Barrier(senders)

    def send(_: int) -> tuple[int, str]:
        client = Client(api.url, api.keys)
        start.wait()
        response = client.call("POST", "/orders", role="sales", json=body)
        return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(senders) as pool:
        answers = list(pool.map(send, range(senders)))
    assert sorted(status for status, _ in answers) == [200] * (senders - 1) + [201]
    assert len({order_id for _, order_id in answers}) == 1
    listed = api.ok("GET", "/orders", role="sales", params={"dealer_id": dealer_id})["orders"]
    assert [o["client_ref"] for o in listed] == ["PO-1"]
