"""The audit's two timelines and `explain` (R7). A return dated in March (its business date) but
recorded in April is a late return: `--as-of` a day before it was recorded shows March without it,
`--as-of` the day it was recorded shows it, and `--until` cuts by log position alike. The
figures themselves always rest on business dates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import eventsourcing.domain
import pytest

from infra.settings import load
from services.runtime import Runtime, build_runtime
from tests.builders import fulfil, line, onboard, place, publish_prices
from tests.integration.audit_helpers import position_of, run_channel


@pytest.fixture
def url(database_url: str) -> str:
    """The store's URL, on SQLite and on PostgreSQL (tests/conftest.py)."""
    return database_url


class Recorder:
    """Sets the wall-clock day on which the next events are recorded (their timestamps)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.day = date(2026, 1, 2)
        monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", self.now)

    def now(self) -> datetime:
        return datetime.combine(self.day, time(12), tzinfo=UTC)


@pytest.fixture
def history(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Recorded 2026-03-02: a tier-A dealer, January and February closed, 20 routers delivered on
    March 10 (14000.00). Recorded 2026-04-03: 5 of them returned, dated March 28 (3500.00).
    Recorded 2026-04-06: March closed (its slip is issued the same day)."""
    clock = Recorder(monkeypatch)
    runtime: Runtime = build_runtime(load().with_database(url))
    app = runtime.app
    try:
        clock.day = date(2026, 3, 2)
        publish_prices(app)
        dealer = onboard(app, "active", "A", "east", name="East")
        first = app.find_order(dealer, "first")
        assert first is not None
        fulfil(app, str(first.id), date(2026, 1, 20))
        runtime.sync(app.close_period("2026-01", date(2026, 2, 1)).position)
        runtime.sync(app.close_period("2026-02", date(2026, 3, 1)).position)
        march = place(app, dealer, "march", on=date(2026, 3, 5), lines=[line(qty=20)])
        fulfil(app, march, date(2026, 3, 10))
        before_return = app.recorder.max_notification_id() or 0
        clock.day = date(2026, 4, 3)
        app.return_order_lines(march, date(2026, 3, 28), [{"sku": "ROUTER", "qty": 5}])
        clock.day = date(2026, 4, 6)
        runtime.sync(app.close_period("2026-03", date(2026, 4, 6)).position)
        yield {"url": url, "dealer": dealer, "march": march, "before_return": before_return,
               "returned_at": position_of(app, "Order.Returned", march)}
    finally:
        runtime.close()


def explain_march(capsys: Any, h: dict[str, Any], *timeline: str) -> dict[str, Any]:
    code, out, err = run_channel(capsys, "audit", "explain", "rebate", h["dealer"], "2026-03",
                                 "--database", h["url"], "--format", "json", "--no-progress",
                                 *timeline)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def monthly(data: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in data["entries"] if e["kind"] == "monthly")


def test_r7_as_of_before_a_late_return_shows_the_figure_without_it_and_after_with_it(
    history: dict[str, Any], capsys: Any
) -> None:
    before = explain_march(capsys, history, "--as-of", "2026-04-02")
    assert before["net_sales"] == "14000.00" and before["returns"] == []
    assert monthly(before)["status"] == "accrued" and monthly(before)["basis"] == "14000.00"
    assert before["basis_of_figures"]["position"] == history["before_return"]

    after = explain_march(capsys, history, "--as-of", "2026-04-03")
    assert after["net_sales"] == "10500.00"
    assert [r["position"] for r in after["returns"]] == [history["returned_at"]]
    # The return counts in March, its business date, although it was recorded in April.
    assert after["returns"][0]["business_date"] == "2026-03-28"
    assert monthly(after)["status"] == "accrued" and monthly(after)["amount"] == "210.00"

    at_close = explain_march(capsys, history, "--as-of", "2026-04-06")
    assert monthly(at_close)["status"] == "posted" and monthly(at_close)["amount"] == "210.00"
    live = explain_march(capsys, history)  # the live read model agrees with the rebuilt one
    assert (live["entries"], live["net_sales"]) == (at_close["entries"], at_close["net_sales"])


def test_r7_until_cuts_by_log_position_just_before_and_at_the_late_return(
    history: dict[str, Any], capsys: Any
) -> None:
    returned_at = history["returned_at"]
    before = explain_march(capsys, history, "--until", str(returned_at - 1))
    at = explain_march(capsys, history, "--until", str(returned_at))
    assert (before["net_sales"], at["net_sales"]) == ("14000.00", "10500.00")


def test_r7_explain_rebate_table_lists_the_deliveries_returns_and_order_lines(
    history: dict[str, Any], capsys: Any
) -> None:
    code, out, _ = run_channel(capsys, "audit", "explain", "rebate", history["dealer"], "2026-03",
                               "--database", history["url"])
    assert code == 0
    assert "Net sales 2026-03 (O5): 10500.00 = deliveries 14000.00 − returns 3500.00" in out
    assert "ROUTER ×20 @ 700.00 = 14000.00" in out and "ROUTER ×5 @ 700.00 = -3500.00" in out
    assert f"  {history['returned_at']}  return" in out


def test_k3_s2_explain_ranking_and_spare_budget_give_the_positions_behind_the_figures(
    history: dict[str, Any], capsys: Any
) -> None:
    code, out, _ = run_channel(capsys, "audit", "explain", "ranking", "2026-Q1", "--database",
                               history["url"], "--format", "json")
    assert code == 0
    rows = json.loads(out)["rows"]
    assert rows[0]["dealer_id"] == history["dealer"]
    facts = rows[0]["facts"]
    assert sum(Decimal(f["value"]) for f in facts) == Decimal(rows[0]["net_sales"])
    assert history["returned_at"] in [f["position"] for f in facts]

    code, out, _ = run_channel(capsys, "audit", "explain", "spare-budget", "national", "2026-03",
                               "--database", history["url"], "--format", "json")
    assert code == 0
    budget = json.loads(out)
    assert budget["status"] == "allocated" and budget["window"] == ["2026-01", "2026-02",
                                                                      "2026-03"]
    assert Decimal(budget["facts_total"]) == Decimal(budget["basis"]) == Decimal("11200.00")
    assert Decimal(budget["allocated"]) == Decimal("112.00")


def test_r7_explain_an_unknown_dealer_fails_with_a_one_line_reason(
    history: dict[str, Any], capsys: Any
) -> None:
    code, out, err = run_channel(capsys, "audit", "explain", "rebate", "no-such-dealer", "2026-03",
                                 "--database", history["url"])
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "no dealer no-such-dealer" in err
