"""Every body the server can be sent answers 4xx, never 5xx, and writes nothing: JSON nested
10,000 deep, an integer of 5,000 digits, NaN, bytes that are not UTF-8, a body past the size limit
(422 naming the limit, 413 for the size); and any bytes at all (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.http.bodies import MAX_DEPTH, MAX_NUMBER_LENGTH, depth
from tests.integration.http_fixtures import Http, http

__all__ = ["http"]


def send(http: Http, data: bytes, path: str = "/orders", method: str = "POST",
         content_type: str = "application/json") -> Any:
    before = http.position()
    response = http.client.open(path, method=method, data=data, content_type=content_type,
                                headers={"Authorization": f"Bearer {http.keys['sales']}"})
    assert http.position() == before, "a refused body wrote events"
    return response


def nested(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


@pytest.mark.parametrize("path", ["/orders", "/dealers", "/price-list"])
def test_json_nested_ten_thousand_deep_is_422_naming_the_depth(http: Http, path: str) -> None:
    method = "PUT" if path == "/price-list" else "POST"
    response = send(http, nested(10_000), path, method)
    assert response.status_code == 422
    body = response.get_json()
    assert "nests 10000 deep" in body["message"] and str(MAX_DEPTH) in body["message"]
    assert body["errors"]["_body"]


def test_an_integer_of_five_thousand_digits_is_422_naming_the_literal(http: Http) -> None:
    payload = b'{"dealer_id": "d", "lines": [{"sku": "S", "qty": ' + b"9" * 5000 + b"}]}"
    response = send(http, payload)
    assert response.status_code == 422
    assert "number literal of 5000 characters" in response.get_json()["message"]


@pytest.mark.parametrize("payload", [b'{"qty": NaN}', b"[Infinity]", b"-Infinity"])
def test_nan_and_infinity_are_not_json(http: Http, payload: bytes) -> None:
    response = send(http, payload)
    assert response.status_code == 422 and "is not JSON" in response.get_json()["message"]


def test_bytes_that_are_not_utf8_or_not_json_are_422(http: Http) -> None:
    assert send(http, b'{"name": "\xff\xfe"}').status_code == 422
    response = send(http, b'{"name": ')
    assert response.status_code == 422 and "line 1 column" in response.get_json()["message"]


def test_a_body_past_the_size_limit_is_413(http: Http) -> None:
    limit = http.flask.config["MAX_CONTENT_LENGTH"]
    response = send(http, b'"' + b"x" * limit + b'"')
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert depth('{"a": [[1]], "b": "[[[[[[["}') == 3
    assert depth('"\\"[[["') == 0
    assert depth("[]" * 100) == 1


def test_the_limits_leave_every_real_body_alone(http: Http) -> None:
    ok = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert send(http, ok).status_code == 422  # read, and refused by the schema, not the limit
    assert "nests" not in send(http, ok).get_json()["message"]
    long_number = b'{"qty": ' + b"1" * MAX_NUMBER_LENGTH + b"}"
    assert "number literal" not in send(http, long_number).get_json()["message"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())),
       path=st.sampled_from(["/orders", "/dealers", "/price-list", "/policy", "/api-keys"]))
def test_any_body_at_all_answers_4xx_and_writes_nothing(http: Http, data: bytes, path: str) -> None:
    method = "PUT" if path in ("/price-list", "/policy") else "POST"
    response = send(http, data, path, method)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data())
