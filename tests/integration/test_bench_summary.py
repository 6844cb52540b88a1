"""The benchmark summary's plumbing (no figure is timed here): goals read from their text, modules
that are absent or give no figures named and skipped, rows kept with their keys; and the
statement counter counts what PostgreSQL is sent."""

from __future__ import annotations

import sys
import types
from typing import Any

import psycopg
import pytest

from bench import summary
from bench.common import figure
from bench.pgcount import StatementCounter
from infra.persistence import parse_database_url


def test_a_ratio_is_held_to_its_goal() -> None:
    assert summary.met(figure("a", 7.0, "/s", 10.0, ">= 0.6")) is True
    assert summary.met(figure("b", 15.0, "ms", 10.0, "<= 1.3")) is False
    assert summary.met({"ratio": 1.0, "goal": "fast"}) is None


def test_a_goal_on_the_figure_itself_holds_its_value() -> None:
    assert summary.met(figure("p95", 132.0, "ms", 3.1, "value <= 300")) is True
    assert summary.met(figure("p95", 409.0, "ms", 3.1, "value <= 300")) is False


def test_absent_modules_and_modules_without_figures_are_named_and_the_rest_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    silent = types.ModuleType("bench.bench_silent")
    giving = types.ModuleType("bench.bench_giving")

    def figures(quick: bool = False) -> list[dict[str, Any]]:
        assert quick
        return [figure("giving", 3.0, "/s", 4.0, ">= 0.5"), {"figure": "half"}]

    giving.figures = figures  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.bench_silent", silent)
    monkeypatch.setitem(sys.modules, "bench.bench_giving", giving)
    rows, problems = summary.run(["nowhere", "silent", "giving"], quick=True)
    assert rows == [{"figure": "giving", "value": 3.0, "unit": "/s", "baseline": 4.0,
                     "ratio": 0.75, "goal": ">= 0.5"}]
    assert problems[0].startswith("bench_nowhere: absent")
    assert problems[1] == "bench_silent: has no figures()"
    assert problems[2].startswith("bench_giving: a row without value")


def test_the_statement_counter_counts_what_the_server_is_sent(pg_url: str) -> None:
    database = parse_database_url(pg_url)
    with StatementCounter(database.host, database.port) as counter:
        conninfo = database.conninfo().replace(f"host={database.host} port={database.port}",
                                               f"host=127.0.0.1 port={counter.port}")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            before = counter.counts()[0]
            conn.execute("SELECT 1")
            conn.execute("SELECT %s::int", (2,))
            with conn.pipeline():
                conn.execute("SELECT 3")
                conn.execute("SELECT 4")
            after = counter.counts()[0]
    assert after - before == 4


def test_only_names_a_module_by_itself_or_by_a_figure_it_gives() -> None:
    assert summary.modules_named("import_orders") == ["import"]
    assert summary.modules_named("http,http_p99_ms,replay") == ["http", "replay"]
    assert summary.modules_named("nowhere") == ["nowhere"]
