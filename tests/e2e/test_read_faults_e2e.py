"""End to end: a server started on a database whose read model cannot apply an event in the store
starts all the same, says so on /healthz and in its log, takes commands, and answers the reads of
the read model with 503 naming the position (`channel serve` on SQLite, gunicorn on PostgreSQL)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.builders import app_for_url, publish_prices
from tests.e2e.server import Client, Server, channel_serve, gunicorn, printed_keys
from tests.support.faults import store_half_a_registration


def degraded(server: Server, bound: float = 60.0) -> Any:
    """/healthz once it answers 503 (on PostgreSQL the leading worker meets the event a moment
    after the start); bounded, so a server that never says so fails the test."""
    deadline = time.monotonic() + bound
    while True:
        response = requests.get(f"{server.url}/healthz", timeout=10)
        if response.status_code == 503:
            return response.json()
        if time.monotonic() > deadline:
            pytest.fail(f"/healthz still answers {response.status_code}: {response.text}")
        time.sleep(0.2)


@pytest.fixture
def url(database_url: str) -> str:
    """The store's URL, on SQLite and on PostgreSQL (tests/conftest.py)."""
    return database_url


def test_a_server_starts_on_a_stopped_read_model_takes_commands_and_answers_its_reads_503(
    url: str, tmp_path: Path,
) -> None:
    app = app_for_url(url)
    try:
        publish_prices(app)
        bad = store_half_a_registration(app)
    finally:
        app.close()
    on_sqlite = url.startswith("sqlite")
    made = channel_serve(url, tmp_path) if on_sqlite else gunicorn(url, tmp_path, workers=2)
    with made.start(healthy=False) as server:
        health = degraded(server)
        assert health["status"] == "degraded" and health["database"] == "ok"
        model = health["read_model"]
        assert (model["stopped_at"], model["event_type"]) == (bad, "Dealer.Registered")
        assert model["position"] == bad - 1 and model["reason"].startswith("KeyError")
        api = Client(server.url, printed_keys(server.log()) if on_sqlite else server.keys)
        created = api.ok("POST", "/dealers", 201, role="sales", json={
            "name": "After", "region": "east", "tier": "A", "salesperson": "alice",
            "contact": "after@example.com", "registered_on": "2026-01-02"})
        assert api.ok("GET", f"/dealers/{created['id']}", role="sales")["name"] == "After"
        report = api.call("GET", "/reports/dealers", role="manager", params={"period": "2026-01"})
        assert report.status_code == 503
        assert report.json()["read_model"]["stopped_at"] == bad
        assert f"log position {bad} (Dealer.Registered)" in report.json()["message"]
        assert f"read model: stopped at log position {bad} (Dealer.Registered)" in server.log()
