"""API keys: bootstrap keys from CHANNEL_API_KEYS, keys issued and revoked by an admin (over HTTP and
with `channel keys`), stored as digests only; 401 without a valid key."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from services.cli import main
from services.http.app import shutdown
from tests.integration.http_fixtures import Http, http, make_http, register

__all__ = ["http"]


def test_without_a_key_or_with_an_unknown_one_every_operation_is_401(http: Http) -> None:
    body = http.refused(401, "GET", "/price-list")
    assert "Bearer" in body["message"]
    http.refused(401, "GET", "/price-list", key="chl_0000000000000000_" + "x" * 43)
    http.refused(401, "GET", "/price-list", headers={"Authorization": "Basic dXNlcjpwdw=="})
    response = http.call("GET", "/price-list", key="nonsense")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith(
        "Bearer"
    )


def test_healthz_and_the_openapi_document_answer_without_a_key(http: Http) -> None:
    head = http.position()
    assert http.ok("GET", "/healthz") == {
        "status": "ok", "database": "ok",
        "read_model": {"position": head, "head": head, "lag": 0},
    }
    assert http.ok("GET", "/openapi.json")["openapi"].startswith("3.")


def test_an_admin_issues_a_key_shown_once_that_works_until_revoked(http: Http) -> None:
    created = http.ok("POST", "/api-keys", 201, role="admin",
                      json={"role": "finance", "label": "month-end"})
    key, key_id = created["key"], created["id"]
    assert created["role"] == "finance" and created["revoked_at"] is None
    # Authenticated: no price list is published, so 404 rather than 401.
    assert http.call("GET", "/price-list", key=key).status_code == 404
    listed = http.ok("GET", "/api-keys", role="admin")["keys"]
    assert key_id in [k["id"] for k in listed]
    assert all("key" not in k for k in listed)
    http.ok("DELETE", f"/api-keys/{key_id}", 204, role="admin")
    http.refused(401, "GET", "/price-list", key=key)
    http.refused(404, "DELETE", "/api-keys/0000000000000000", role="admin")


def test_a_dealer_key_names_an_existing_dealer(http: Http) -> None:
    http.refused(422, "POST", "/api-keys", role="admin", json={"role": "dealer"},
                 field="dealer_id")
    http.refused(404, "POST", "/api-keys", role="admin",  # an unknown id
                 json={"role": "dealer", "dealer_id": "00000000-0000-0000-0000-000000000004"})
    http.refused(422, "POST", "/api-keys", role="admin", json={"role": "root"}, field="role")
    dealer_id = register(http)
    created = http.ok("POST", "/api-keys", 201, role="admin",
                      json={"role": "dealer", "dealer_id": dealer_id})
    assert http.ok("GET", f"/dealers/{dealer_id}", key=created["key"])["id"] == dealer_id


def test_only_an_admin_manages_keys(http: Http) -> None:
    for role in ("sales", "manager", "finance", "auditor"):
        http.refused(403, "POST", "/api-keys", role=role, json={"role": "admin"})
        http.refused(403, "GET", "/api-keys", role=role)


def test_issued_keys_are_stored_as_digests_only(http: Http, tmp_path: Path) -> None:
    created = http.ok("POST", "/api-keys", 201, role="admin", json={"role": "auditor"})
    with sqlite3.connect(tmp_path / "channel.db") as conn:
        rows = conn.execute("SELECT * FROM channel_api_keys").fetchall()
    stored = json.dumps(rows)
    assert created["key"] not in stored
    assert created["key"].split("_")[-1] not in stored


def test_bootstrap_keys_come_from_the_channel_api_keys_file(tmp_path: Path) -> None:
    key = "bootstrap-manager-key-0123456789"
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({key: {"role": "manager"}}))
    made = make_http(tmp_path, CHANNEL_API_KEYS=str(keys_file))
    try:
        items = [{"sku": "S", "name": "s", "list_price": "100.00", "floor_price": "50.00"}]
        made.ok("PUT", "/price-list", 201, key=key,
                json={"effective_from": "2026-01-01", "items": items})
        made.refused(403, "POST", "/dealers", key=key, json={})
    finally:
        shutdown(made.flask)


def test_channel_keys_create_prints_a_working_key_and_revoke_ends_it(
    http: Http, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'channel.db'}"
    dealer_id = register(http)
    assert main(["keys", "create", "--role", "dealer", "--dealer-id", dealer_id,
                 "--database", database]) == 0
    key = capsys.readouterr().out.strip()
    assert http.ok("GET", f"/dealers/{dealer_id}", key=key)["id"] == dealer_id
    key_id = key.split("_")[1]
    assert main(["keys", "list", "--database", database]) == 0
    assert key_id in capsys.readouterr().out
    assert main(["keys", "revoke", key_id, "--database", database]) == 0
    http.refused(401, "GET", f"/dealers/{dealer_id}", key=key)
    assert main(["keys", "create", "--role", "dealer", "--database", database]) == 1
    assert "dealer_id" in capsys.readouterr().err
