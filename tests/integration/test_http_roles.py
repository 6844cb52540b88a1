"""The role matrix, table-driven from DESIGN.md: every route × every role. 401 without a key, 403
for a role the table does not name or for another dealer's data, and otherwise the request gets
through to its own answer (a probe body with an unknown field: 422, so nothing is written)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from services.http.app import shutdown
from tests.integration.http_fixtures import Http, fulfil, make_http, onboard, place, publish_prices

ROLES = ("dealer", "sales", "manager", "finance", "auditor", "admin")
EVERYONE = " ".join(ROLES)
# What a dealer key may do on a route, beyond the roles named.
NO, OWN, OWN_ROWS, OWN_LIST, OWN_BODY, ANY = (
    "no", "own", "own rows", "own list", "own body", "any"
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {dealer}, {order}, {slip} are filled with the world's ids
    roles: str  # the roles DESIGN.md names (a dealer's access is in `dealer`)
    dealer: str = NO
    extension: bool = False  # beyond DESIGN.md's table

    @property
    def writes(self) -> bool:
        return self.method in ("POST", "PUT")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


# DESIGN.md, "HTTP contract", row by row.
MATRIX = [
    Route("POST", "/dealers", "sales"),
    Route("GET", "/dealers/{dealer}", "sales manager auditor", OWN),
    Route("GET", "/dealers?region=east", "sales manager auditor", OWN_ROWS),
    Route("POST", "/dealers/{dealer}/draft-agreement", "sales"),
    Route("POST", "/dealers/{dealer}/forecasts", "sales", OWN),
    Route("POST", "/dealers/{dealer}/formal-agreement", "manager"),
    Route("POST", "/dealers/{dealer}/tier", "manager"),
    Route("POST", "/dealers/{dealer}/reassignment", "manager"),
    Route("POST", "/dealers/{dealer}/incidents", "manager finance"),
    Route("POST", "/dealers/{dealer}/termination", "manager"),
    Route("POST", "/dealers/{dealer}/repair-centre", "manager"),
    Route("PUT", "/price-list", "manager"),
    Route("GET", "/price-list?on=2026-01-10", EVERYONE, ANY),
    Route("PUT", "/policy", "finance manager"),
    Route("GET", "/policy?on=2026-01-10", EVERYONE, ANY),
    Route("POST", "/orders", "sales", OWN_BODY),
    Route("GET", "/orders/{order}", "sales manager finance auditor", OWN),
    Route("GET", "/orders?status=confirmed", "sales manager finance auditor", OWN_LIST),
    Route("POST", "/orders/{order}/approval", "manager"),
    Route("POST", "/orders/{order}/cancellation", "sales", OWN),
    Route("POST", "/orders/{order}/shipment", "sales"),
    Route("POST", "/orders/{order}/delivery", "sales"),
    Route("POST", "/orders/{order}/payments", "finance"),
    Route("POST", "/orders/{order}/returns", "sales"),
    Route("POST", "/credit/{dealer}/evaluation", "manager"),
    Route("GET", "/credit/{dealer}", "finance manager auditor", OWN),
    Route("POST", "/spare-parts/{dealer}/draws", "manager", OWN),
    Route("POST", "/periods/2026-02/close", "finance"),
    Route("GET", "/rebate-slips?period=2026-01", "finance manager auditor", OWN_LIST),
    Route("GET", "/rebate-slips/{slip}", "finance manager auditor", OWN),
    Route("POST", "/rebate-slips/{slip}/confirmation", "", OWN),
    Route("POST", "/rebate-slips/{slip}/disputes", "", OWN),
    Route("POST", "/rebate-slips/{slip}/resolutions", "finance"),
    Route("GET", "/reports/rebates?period=2026-01", "finance manager auditor", OWN_LIST),
    Route("GET", "/reports/rebates/{dealer}/2026-01/explanation", "finance manager auditor", OWN),
    Route("GET", "/reports/spare-budgets?month=2026-01", "finance manager auditor"),
    Route("GET", "/reports/accruals?month=2026-01", "finance auditor"),
    Route("GET", "/reports/dealers?period=2026-01", "manager auditor"),
    Route("GET", "/reports/salespeople?period=2026-01", "manager auditor"),
    # "sales (own)": only a sales key naming the salesperson (test_k1_… below); a bare sales key
    # names nobody, so it is refused like any role not named.
    Route("GET", "/reports/weekly?salesperson=alice&week=2026-W04", "manager"),
    Route("POST", "/api-keys", "admin"),
    Route("DELETE", "/api-keys/0000000000000000", "admin"),
    Route("GET", "/api-keys", "admin", extension=True),
    Route("GET", "/reports/statistics?period=2026-01", "manager auditor finance", extension=True),
    # Finance's printed tables (docs/exports.md).
    Route("GET", "/reports/rebate-confirmations?period=2026-01", "finance manager auditor",
          OWN_LIST, extension=True),
    Route("GET", "/reports/sales-performance?period=2026-01", "manager auditor finance",
          extension=True),
    Route("GET", "/reports/salesperson-performance?period=2026-01", "manager auditor finance",
          extension=True),
    Route("GET", "/reports/quarterly-rebates?period=2026-01", "finance manager auditor",
          extension=True),
]
PROBE = {"probe": "an unknown field: an allowed caller gets 422 and nothing is written"}


@dataclass
class World:
    http: Http
    own: dict[str, str]  # dealer, order, slip of the dealer whose key is used
    other: dict[str, str]  # the same of another dealer
    dealer_key: str

    def path(self, route: Route, ids: dict[str, str] | None = None) -> str:
        return route.path.format(**(ids or self.own))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    http = make_http(Path(tmp_path_factory.mktemp("roles")))
    publish_prices(http)
    ids = []
    for name, salesperson in (("Own", "alice"), ("Other", "bob")):
        dealer = onboard(http, name=name, salesperson=salesperson)
        fulfil(http, place(http, dealer, "delivered"), "2026-01-20")
        order = place(http, dealer, "open", on="2026-01-21")
        ids.append({"dealer": dealer, "order": order["id"]})
    http.ok("POST", "/periods/2026-01/close", role="finance", json={"closed_on": "2026-02-01"})
    for found in ids:
        slips = http.ok("GET", "/rebate-slips", role="finance",
                        query={"dealer_id": found["dealer"]})["slips"]
        found["slip"] = slips[0]["slip_id"]
    yield World(http, ids[0], ids[1], http.dealer_key(ids[0]["dealer"]))
    shutdown(http.flask)


def send(world: World, route: Route, key: str | None, ids: dict[str, str] | None = None,
         query: dict[str, str] | None = None) -> tuple[int, Any]:
    body: Any = None
    if route.writes:
        body = dict(PROBE)
        if route.dealer == OWN_BODY:
            body["dealer_id"] = (ids or world.own)["dealer"]
    path = world.path(route, ids)
    if query:
        path += ("&" if "?" in path else "?") + urlencode(query)
    before = world.http.position()
    response = world.http.call(route.method, path, key=key, json=body)
    assert world.http.position() == before, f"{route} wrote events"
    return response.status_code, response.get_json(silent=True)


@pytest.mark.parametrize("route", MATRIX, ids=str)
def test_every_route_without_a_key_is_401(world: World, route: Route) -> None:
    assert send(world, route, None)[0] == 401


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", MATRIX, ids=str)
def test_every_route_for_every_role_answers_exactly_the_design_permissions(
    world: World, route: Route, role: str
) -> None:
    key = world.dealer_key if role == "dealer" else world.http.keys[role]
    status, body = send(world, route, key)
    allowed = role in route.roles.split() or (role == "dealer" and route.dealer != NO)
    if not allowed:
        assert status == 403, (status, body)
        assert body["code"] == 403
    elif route.writes:
        assert status == 422, (status, body)  # through the door; the probe fails the schema
    elif route.method == "DELETE":
        assert status == 404, (status, body)
    else:
        assert status == 200, (status, body)


@pytest.mark.parametrize("route", [r for r in MATRIX if r.dealer in (OWN, OWN_BODY)], ids=str)
def test_a_dealer_key_is_403_on_another_dealers_data(world: World, route: Route) -> None:
    status, body = send(world, route, world.dealer_key, world.other)
    assert status == 403, (status, body)


@pytest.mark.parametrize(
    "route", [r for r in MATRIX if r.dealer in (OWN_LIST, OWN_ROWS)], ids=str
)
def test_a_dealer_key_lists_its_own_rows_only(world: World, route: Route) -> None:
    status, own = send(world, route, world.dealer_key)
    assert status == 200, own
    rows = next(v for v in own.values() if isinstance(v, list))
    assert rows and {r["dealer_id"] for r in rows} == {world.own["dealer"]}
    status, everyone = send(world, route, world.http.keys["auditor"])
    if status == 200:  # the unscoped list does hold the other dealer's rows
        rows = next(v for v in everyone.values() if isinstance(v, list))
        assert world.other["dealer"] in {r["dealer_id"] for r in rows}


@pytest.mark.parametrize("route", [r for r in MATRIX if r.dealer == OWN_LIST], ids=str)
def test_a_dealer_key_asking_for_another_dealers_rows_is_403(world: World, route: Route) -> None:
    status, _ = send(world, route, world.dealer_key, query={"dealer_id": world.own["dealer"]})
    assert status == 200
    status, _ = send(world, route, world.dealer_key, query={"dealer_id": world.other["dealer"]})
    assert status == 403


def test_k1_a_sales_key_naming_the_salesperson_reads_that_weekly_report_only(
    world: World,
) -> None:
    route = next(r for r in MATRIX if r.path.startswith("/reports/weekly"))
    assert send(world, route, world.http.sales_key("alice"))[0] == 200
    assert send(world, route, world.http.sales_key("bob"))[0] == 403


def test_the_matrix_covers_every_operation_of_the_openapi_document(world: World) -> None:
    spec = world.http.ok("GET", "/openapi.json")
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if path != "/healthz" and method != "parameters"
    }
    covered = set()
    for route in MATRIX:
        path = route.path.split("?")[0]
        for placeholder, name in (("{dealer}", "{dealer_id}"), ("{order}", "{order_id}"),
                                  ("{slip}", "{slip_id}"), ("2026-02", "{month}"),
                                  ("0000000000000000", "{key_id}"), ("2026-01", "{period}")):
            path = path.replace(placeholder, name)
        covered.add((route.method, path))
    assert documented == covered
    roles = {
        (method.upper(), path): set(operation["x-roles"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if path != "/healthz" and method != "parameters"
    }
    assert all(roles.values()), "an operation without roles"
