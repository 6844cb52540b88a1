"""Strict formats at the HTTP edge: dates YYYY-MM-DD, months YYYY-MM, quarters YYYY-Qn, weeks
YYYY-Www and money in ASCII digits only; full-width (７００) and Arabic-Indic (٢٠٢٦) digits, basic ISO
dates (20260402) and years outside 1900-2999 are 422 naming the field, and write nothing. The
OpenAPI document states the same patterns."""

from __future__ import annotations

import re
import sys
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis.strategies import from_regex

from infra.envelope.fields import NONZERO_MONEY_IN, POSITIVE_MONEY_IN
from infra.envelope.terms import MULTIPLE, RATE
from services.http.fields import DATE, FILLED, MONEY_IN, MONTH, NO_CONTROL, PERIOD, WEEK
from tests.integration.http_fixtures import Http, http, onboard, publish_prices

__all__ = ["http"]

FULL_WIDTH_700 = "\uff17\uff10\uff10"  # ７００
ARABIC_2026 = "\u0662\u0660\u0662\u0666"  # ٢٠٢٦


@pytest.mark.parametrize("signed_on", ["20260402", f"{ARABIC_2026}-04-02", "2026-4-2",
                                       "3000-01-01", "1899-12-31", "2026-04-02T00:00:00"])
def test_a_date_in_another_form_is_422_naming_the_field(http: Http, signed_on: str) -> None:
    dealer_id = onboard(http, stage="registered")
    http.refused(422, "POST", f"/dealers/{dealer_id}/draft-agreement", role="sales",
                 json={"signed_on": signed_on}, field="signed_on")


@pytest.mark.parametrize("month", ["20\uff12\uff16-04", f"{ARABIC_2026}-04", "2026-4", "202604"])
def test_a_month_with_other_digits_is_422_naming_the_field(http: Http, month: str) -> None:
    dealer_id = onboard(http, stage="draft")
    http.refused(422, "POST", f"/dealers/{dealer_id}/forecasts", role="sales",
                 json={"months": [{"month": month, "amount": "1000.00"}]},
                 field="months.0.month")


@pytest.mark.parametrize("amount", [FULL_WIDTH_700, "\u0667\u0660\u0660", "7\uff10\uff10.00"])
def test_money_with_other_digits_is_422_naming_the_field(http: Http, amount: str) -> None:
    items = [{"sku": "S", "name": "s", "list_price": amount, "floor_price": "50.00"}]
    http.refused(422, "PUT", "/price-list", role="manager",
                 json={"effective_from": "2026-01-01", "items": items},
                 field="items.0.list_price")


@pytest.mark.parametrize("query", [{"period": f"{ARABIC_2026}-Q2"}, {"period": "2026-Q\uff12"}])
def test_a_period_with_other_digits_is_422_in_a_query_too(http: Http, query: dict[str, str]) -> None:
    publish_prices(http)
    response = http.call("GET", "/reports/rebates", role="finance", query=query)
    assert response.status_code == 422 and "period" in response.get_json()["errors"]


def test_the_patterns_take_ascii_digits_only() -> None:
    for pattern, good, bad in [
        (DATE, "2026-04-02", f"{ARABIC_2026}-04-02"), (MONTH, "2026-04", "20\uff12\uff16-04"),
        (PERIOD, "2026-Q2", "2026-Q\uff12"), (WEEK, "2026-W05", "2026-W\u0660\u0665"),
        (MONEY_IN, "700.00", FULL_WIDTH_700),
    ]:
        assert re.match(pattern, good) and not re.match(pattern, bad), pattern


def test_the_openapi_document_states_the_date_pattern_and_the_control_character_rule(
    http: Http,
) -> None:
    document = http.client.get("/openapi.json").get_json()
    text = str(document)
    assert DATE in text and "x00" in text


def test_the_week_pattern_admits_week_53_only_in_the_years_that_have_one() -> None:
    assert re.match(WEEK, "2020-W53") and re.match(WEEK, "2026-W53")
    assert not re.match(WEEK, "1980-W53") and not re.match(WEEK, "2025-W53")
    assert re.match(WEEK, "1980-W52") and not re.match(WEEK, "2026-W54")


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("PUT", "/price-list", {"effective_from": "2026-01-01", "items": [
        {"sku": "S", "list_price": "700.00\n", "floor_price": "50.00"}]}, "items.0.list_price"),
    ("PUT", "/price-list", {"effective_from": "2026-01-01\n", "items": [
        {"sku": "S", "list_price": "700.00", "floor_price": "50.00"}]}, "effective_from"),
    ("POST", "/periods/2026-01%0A/close", {"closed_on": "2026-02-01"}, "month"),
])
def test_a_trailing_newline_is_no_part_of_a_format(
    http: Http, method: str, path: str, body: dict[str, object], field: str
) -> None:
    """Python's `$` matches before a final newline, the document's patterns do not: the edge
    matches the whole text."""
    role = "finance" if path.startswith("/periods") else "manager"
    http.refused(422, method, path, role=role, json=body, field=field)


@pytest.mark.parametrize("name", [" ", "\u3000\t", "\u2028"])
def test_a_text_that_must_be_given_is_not_blanks_alone(http: Http, name: str) -> None:
    body = {"name": name, "region": "east", "tier": "A", "salesperson": "alice",
            "contact": "a@example.com"}
    http.refused(422, "POST", "/dealers", role="sales", json=body, field="name")


def test_the_filled_pattern_is_what_strip_leaves_something_of() -> None:
    """FILLED (the document's pattern of a text that must be given) holds exactly the texts
    without control characters that str.strip() does not empty, character by character."""
    filled, controls = re.compile(FILLED), re.compile(NO_CONTROL)
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue  # no JSON text holds a lone surrogate
        for text in (chr(point), f" {chr(point)}\t"):
            expected = bool(controls.fullmatch(text)) and bool(text.strip())
            assert bool(filled.fullmatch(text)) is expected, hex(point)


@given(from_regex(MONEY_IN, fullmatch=True))
def test_the_positive_money_pattern_is_money_above_zero(text: str) -> None:
    assert bool(re.fullmatch(POSITIVE_MONEY_IN, text)) is (Decimal(text) > 0)
    assert bool(re.fullmatch(NONZERO_MONEY_IN, f"-{text}")) is (Decimal(text) > 0)


@given(from_regex(r"(0|[1-9][0-9]{0,2})(\.[0-9]{1,3})?", fullmatch=True))
def test_the_policy_patterns_bound_rates_and_the_credit_multiple(text: str) -> None:
    assert bool(re.fullmatch(RATE, text)) is (Decimal(text) <= 1)
    assert bool(re.fullmatch(MULTIPLE, text)) is (Decimal(text) <= 100)


def test_a_zero_price_is_422_naming_it_as_the_document_says(http: Http) -> None:
    items = [{"sku": "S", "list_price": "0.00", "floor_price": "0"}]
    body = http.refused(422, "PUT", "/price-list", role="manager",
                        json={"effective_from": "2026-01-01", "items": items})
    assert {"items.0.list_price", "items.0.floor_price"} <= set(body["errors"])
    schema = http.client.get("/openapi.json").get_json()["components"]["schemas"]["PriceItemIn"]
    assert schema["properties"]["list_price"]["pattern"] == POSITIVE_MONEY_IN
