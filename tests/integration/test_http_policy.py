"""/policy over HTTP (R4): publish a version into the log, read the one in force on a date; the same
version again writes nothing; a closed month takes none (O6); a malformed version is 422."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from domain.values import Tier
from infra.policy_file import default_policy
from tests.integration.http_fixtures import Http, http

__all__ = ["http"]


def version(version_id: str = "2026.7", effective_from: str = "2026-07-01") -> dict[str, Any]:
    terms = copy.deepcopy(default_policy().versions[0].terms())
    terms["monthly_rebate"]["A"] = "0.050"
    return {"id": version_id, "effective_from": effective_from, "note": "July campaign",
            "terms": terms}


def test_r4_a_new_store_answers_its_first_policy_version(http: Http) -> None:
    body = http.ok("GET", "/policy", role="sales", query={"on": "2026-03-01"})
    first = default_policy().versions[0]
    assert (body["id"], body["number"], body["effective_from"]) == (first.id, 1, "2026-01-01")
    assert body["terms"] == first.terms()


def test_r4_put_policy_records_a_version_that_get_policy_answers_from_its_day(http: Http) -> None:
    before = http.position()
    body = http.ok("PUT", "/policy", 201, role="finance", json=version())
    assert (body["id"], body["effective_from"]) == ("2026.7", "2026-07-01")
    assert body["note"] == "July campaign"
    assert http.position() > before
    assert http.ledger.policy.in_force(date(2026, 7, 2)).monthly_rate(Tier.A) == Decimal("0.050")
    july = http.ok("GET", "/policy", role="manager", query={"on": "2026-07-01"})
    june = http.ok("GET", "/policy", role="manager", query={"on": "2026-06-30"})
    assert (july["id"], july["terms"]["monthly_rebate"]["A"]) == ("2026.7", "0.050")
    assert june["id"] == "2026.1"


def test_r4_the_same_version_again_answers_200_and_writes_nothing(http: Http) -> None:
    http.ok("PUT", "/policy", 201, role="manager", json=version())
    before = http.position()
    http.ok("PUT", "/policy", 200, role="manager", json=version())
    assert http.position() == before


def test_r4_an_id_taken_by_another_version_is_409_naming_the_id(http: Http) -> None:
    http.ok("PUT", "/policy", 201, role="manager", json=version())
    body = http.refused(409, "PUT", "/policy", role="manager", rule="R4",
                        json=version(effective_from="2026-08-01"))
    assert "2026.7" in body["message"]


def test_o6_a_version_effective_in_a_closed_month_is_409(http: Http) -> None:
    http.ok("POST", "/periods/2026-01/close", role="finance", json={"closed_on": "2026-02-01"})
    http.refused(409, "PUT", "/policy", role="manager", rule="O6",
                 json=version(effective_from="2026-01-15"))


def test_r4_a_malformed_version_is_422_naming_the_field(http: Http) -> None:
    broken = version()
    broken["terms"]["quarterly_rebate"]["A"][0]["rate"] = 0.02  # a float, not a decimal string
    body = http.refused(422, "PUT", "/policy", role="manager", json=broken)
    assert list(body["errors"]) == ["terms.quarterly_rebate.A.0.rate"]
    missing = version()
    del missing["terms"]["orders"]
    http.refused(422, "PUT", "/policy", role="manager", json=missing, field="terms.orders")


def test_r3_brackets_whose_thresholds_do_not_rise_are_409(http: Http) -> None:
    """A table the schema cannot judge (its order is across items): the rule refuses it."""
    falling = version()
    falling["terms"]["quarterly_rebate"]["A"].reverse()  # thresholds must rise (R3)
    body = http.refused(409, "PUT", "/policy", role="manager", rule="R3", json=falling,
                        field="quarterly_rebate.A")
    assert "quarterly_rebate.A" in body["message"]
