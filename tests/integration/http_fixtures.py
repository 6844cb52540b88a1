"""The HTTP test client: an app on a SQLite file with one key per role, helpers that drive the
onboarding and order steps over HTTP, and `refused`, which also checks that nothing was written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from infra.settings import Settings
from services.application import ChannelLedger
from services.http.app import create_app, shutdown
from services.http.context import Channel
from services.http.keys import Role
from tests.builders import FORECAST, PRICE_ITEMS

TODAY = date(2026, 7, 15)  # the server's business date, for the few dates left out


@dataclass
class Http:
    flask: Flask
    client: FlaskClient
    keys: dict[str, str] = field(default_factory=dict)  # role -> key

    @property
    def state(self) -> Channel:
        found: Channel = self.flask.extensions["channel"]
        return found

    @property
    def ledger(self) -> ChannelLedger:
        return self.state.runtime.app

    def position(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def dealer_key(self, dealer_id: str) -> str:
        return self.state.keys.create(Role.DEALER, dealer_id)[0]

    def sales_key(self, salesperson: str) -> str:
        return self.state.keys.create(Role.SALES, None, salesperson)[0]

    def call(
        self,
        method: str,
        path: str,
        *,
        role: str | None = None,
        key: str | None = None,
        json: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        sent = dict(headers or {})
        token = key or (self.keys[role] if role else None)
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return self.client.open(path, method=method, json=json, query_string=query, headers=sent)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        body = response.get_json(silent=True)
        assert response.status_code == status, (response.status_code, body)
        return body

    def refused(
        self,
        status: int,
        method: str,
        path: str,
        *,
        rule: str | None = None,
        field: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The request answers `status` with the error body (and `rule`, `field`), and the log is
        as it was: a refused request writes nothing."""
        before = self.position()
        response = self.call(method, path, **kwargs)
        body: dict[str, Any] = response.get_json()
        assert response.status_code == status, (response.status_code, body)
        assert body["code"] == status and body["status"] and body["message"], body
        assert body["request_id"] == response.headers["X-Request-Id"]
        assert body.get("rule") == rule, body
        if field is not None:
            assert field in body.get("errors", {}), body
        assert self.position() == before, "the refused request wrote events"
        return body


def make_http(tmp_path: Path, **settings: Any) -> Http:
    given = {"CHANNEL_DATABASE_URL": f"sqlite:///{tmp_path / 'channel.db'}",
             "CHANNEL_API_KEYS": "", **settings}
    config = Settings(**given)
    app = create_app(config, clock=lambda: TODAY)
    http = Http(app, app.test_client())
    for role in Role:
        if role != Role.DEALER:
            http.keys[role.value] = http.state.keys.create(role)[0]
    return http


@pytest.fixture
def http(tmp_path: Path) -> Iterator[Http]:
    made = make_http(tmp_path)
    yield made
    shutdown(made.flask)


# --- steps over HTTP --------------------------------------------------------------------------

def publish_prices(http: Http, effective_from: str = "2026-01-01") -> dict[str, Any]:
    body = {"effective_from": effective_from, "items": PRICE_ITEMS}
    result: dict[str, Any] = http.ok("PUT", "/price-list", 201, role="manager", json=body)
    return result


def register(
    http: Http, tier: str = "A", region: str = "east", salesperson: str = "alice",
    name: str = "Dealer",
) -> str:
    body = {"name": name, "region": region, "tier": tier, "salesperson": salesperson,
            "contact": f"{name}@example.com", "registered_on": "2026-01-02"}
    return str(http.ok("POST", "/dealers", 201, role="sales", json=body)["id"])


def onboard(http: Http, stage: str = "signed", tier: str = "A", **kwargs: Any) -> str:
    """A dealer registered and brought through D2 over HTTP: registered, draft, forecast,
    signed."""
    dealer_id = register(http, tier, **kwargs)
    steps = [
        ("draft", "draft-agreement", "sales", {"signed_on": "2026-01-03"}),
        ("forecast", "forecasts", "sales",
         {"months": [{"month": m, "amount": a} for m, a in FORECAST]}),
        ("signed", "formal-agreement", "manager",
         {"signed_on": "2026-01-05", "monthly_amount": "10000", "term_months": 12}),
    ]
    for name, path, role, body in steps:
        if stage == "registered":
            break
        http.ok("POST", f"/dealers/{dealer_id}/{path}", role=role, json=body)
        if name == stage:
            break
    return dealer_id


def order_body(
    dealer_id: str, client_ref: str, *, on: str = "2026-01-10", region: str = "east",
    payment: str = "prepaid", lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {"dealer_id": dealer_id, "client_ref": client_ref, "order_date": on,
            "ship_to_region": region, "payment": payment,
            "lines": lines or [{"sku": "ROUTER", "qty": 1}]}


def place(http: Http, dealer_id: str, client_ref: str, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = http.ok(
        "POST", "/orders", 201, role="sales", json=order_body(dealer_id, client_ref, **kwargs)
    )
    return result


def fulfil(http: Http, order: dict[str, Any], on: str) -> dict[str, Any]:
    """Pay (prepaid), ship and deliver an order over HTTP."""
    order_id = order["id"]
    if order["payment"] == "prepaid":
        http.ok("POST", f"/orders/{order_id}/payments", role="finance",
                json={"paid_on": on, "amount": order["total"]})
    http.ok("POST", f"/orders/{order_id}/shipment", role="sales", json={"shipped_on": on})
    result: dict[str, Any] = http.ok(
        "POST", f"/orders/{order_id}/delivery", role="sales", json={"delivered_on": on}
    )
    return result
