"""The error body and the request log: every refusal answers `{code, status, message, …}`, an
unexpected failure a generic 500 with the request id (never a traceback), and no key is logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from domain.errors import ConcurrencyError
from tests.integration.http_fixtures import Http, http

__all__ = ["http"]

DEALER = {"name": "Acme", "region": "east", "tier": "A", "salesperson": "alice",
          "contact": "acme@example.com"}


def test_an_unexpected_failure_is_a_generic_500_with_the_request_id_logged_server_side(
    http: Http, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret detail: /srv/db password=hunter2")

    monkeypatch.setattr(http.ledger, "register_dealer", boom)
    with caplog.at_level(logging.ERROR, logger="channel.http"):
        response = http.call("POST", "/dealers", role="sales", json=DEALER,
                             headers={"X-Request-Id": "req-500"})
    body = response.get_json()
    assert response.status_code == 500
    assert body == {"code": 500, "status": "Internal Server Error",
                    "message": "internal error; quote the request id to the operator",
                    "request_id": "req-500"}
    assert "hunter2" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    failure = next(r for r in caplog.records if "req-500" in r.getMessage())
    assert failure.exc_info is not None  # the traceback stays in the server's log


def test_a_concurrency_conflict_that_outlasts_the_retries_is_409(
    http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    def conflict(*args: Any, **kwargs: Any) -> None:
        raise ConcurrencyError("register_dealer: concurrent updates kept conflicting")

    monkeypatch.setattr(http.ledger, "register_dealer", conflict)
    body = http.refused(409, "POST", "/dealers", role="sales", json=DEALER)
    assert "concurrent" in body["message"]


def test_unknown_paths_and_methods_answer_the_error_body(http: Http) -> None:
    assert http.refused(404, "GET", "/nowhere", role="sales")["status"] == "Not Found"
    response = http.call("DELETE", "/dealers", role="sales")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert response.get_json()["code"] == 405
    http.refused(404, "GET", "/dealers/not-a-uuid", role="sales")


def test_the_request_id_is_echoed_or_made_and_returned_on_every_answer(http: Http) -> None:
    given = http.call("GET", "/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = http.call("GET", "/healthz", headers={"X-Request-Id": "bad id; with spaces and {braces}"})
    assert made.headers["X-Request-Id"] != "bad id; with spaces and {braces}"
    assert len(made.headers["X-Request-Id"]) == 32


def test_each_request_is_logged_with_its_id_and_key_id_but_never_the_key(
    http: Http, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="channel.http"):
        http.call("POST", "/dealers", role="sales", json=DEALER, headers={"X-Request-Id": "r-1"})
        http.call("GET", "/dealers/x", key="chl_0123456789abcdef_" + "s" * 43)
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("r-1 POST /dealers 201") for line in lines), lines
    text = caplog.text
    assert http.keys["sales"] not in text and "s" * 43 not in text
    assert http.keys["sales"].split("_")[1] in text  # the key's id says whose it was
