"""`channel audit replay` and `simulate` after random histories driven through the runtime (as the
HTTP intake drives it): the read model rebuilt from the log equals the live one table by table, and
pricing every closed month again under the policy in force changes nothing that was paid (R5, S2).
A damaged live table is reported, row by row, with exit code 1."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from infra.settings import Settings, load
from services.audit.session import Audit
from services.audit.simulate import simulate
from services.runtime import build_runtime
from tests.integration.audit_helpers import History, run_channel, steps
from tests.support.postgres import create_schema as new_schema
from tests.support.postgres import drop_schema

SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def play(url: str, history: list[tuple[Any, ...]]) -> tuple[Settings, History]:
    config = load().with_database(url)
    runtime = build_runtime(config)
    try:
        played = History(runtime)
        played.play(history)
    finally:
        runtime.close()
    return config, played


def check_replay_and_simulation(config: Settings) -> None:
    with Audit(config) as audit:
        report = audit.replay_and_compare()
        assert report.equal, report.comparison.as_dict()
        assert report.replayed_to == audit.live_position == audit.head
        result = simulate(audit, audit.policy)
    assert result.unchanged, result.as_dict()
    assert result.total.difference == 0 and result.pools_total.difference == 0
    assert all(line.paid == line.proposed for line in result.periods)


@SETTINGS
@given(history=steps())
def test_r5_s2_replay_equals_the_live_tables_and_the_current_policy_changes_nothing_sqlite(
    history: list[tuple[Any, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config, _ = play(f"sqlite:///{Path(tmp) / 'ledger.db'}", history)
        check_replay_and_simulation(config)


@settings(SETTINGS, max_examples=3)
@given(history=steps())
def test_r5_s2_replay_equals_the_live_tables_and_the_current_policy_changes_nothing_postgres(
    postgres_server: str, history: list[tuple[Any, ...]],
) -> None:
    url = new_schema(postgres_server, "audit")
    try:
        config, _ = play(url, history)
        check_replay_and_simulation(config)
    finally:
        drop_schema(url)


@pytest.fixture
def demo_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'ledger.db'}"


def a_history() -> list[tuple[Any, ...]]:
    return [
        ("dealer", "A", "east", 1), ("dealer", "AA", "west", 0), ("dealer", "SI", "east", 0),
        ("order", 0, 30, "ROUTER", 5, False), ("order", 1, 20, "SWITCH", 6, True),
        ("order", 2, 12, "ROUTER", 7, False), ("return", 0, 2, 20), ("repair", 0, 3),
        ("close",), ("order", 0, 25, "ROUTER", 4, False), ("draw", 0, 5000, 9),
        ("dispute", 0, True, 1250, 10), ("close",), ("order", 1, 3, "ROUTER", 2, False),
    ]


def test_r5_replay_names_each_row_a_damaged_live_table_lost_or_changed(
    demo_url: str, capsys: Any
) -> None:
    play(demo_url, a_history())
    code, out, _ = run_channel(capsys, "audit", "replay", "--database", demo_url, "--no-progress")
    assert code == 0 and "OK: the replay equals the live tables" in out

    path = demo_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        sale = conn.execute("SELECT position FROM rm_sales ORDER BY position LIMIT 1").fetchone()[0]
        conn.execute("DELETE FROM rm_sales WHERE position = ?", (sale,))
        entry = conn.execute("SELECT entry_id FROM rm_rebate_entries LIMIT 1").fetchone()[0]
        conn.execute("UPDATE rm_rebate_entries SET amount_cents = amount_cents + 100 "
                     "WHERE entry_id = ?", (entry,))
    code, out, _ = run_channel(capsys, "audit", "replay", "--database", demo_url, "--no-progress")
    assert code == 1
    assert f"only in replay  position={sale}:" in out
    assert f"changed  entry_id={entry}: amount_cents: live" in out
    assert "DIFFERENT: 1 live row(s) and 2 replayed row(s)" in out


def test_r5_replay_kept_scratch_is_a_read_model_of_its_own_and_the_default_one_is_dropped(
    demo_url: str, capsys: Any, tmp_path: Path
) -> None:
    play(demo_url, a_history())
    scratch = tmp_path / "kept.db"
    code, out, _ = run_channel(capsys, "audit", "replay", "--database", demo_url, "--no-progress",
                               "--keep", "--scratch", str(scratch))
    assert code == 0 and f"kept at sqlite:///{scratch}" in out
    with sqlite3.connect(scratch) as conn:
        assert conn.execute("SELECT COUNT(*) FROM rm_sales").fetchone()[0] > 0
    code, _, err = run_channel(capsys, "audit", "replay", "--database", demo_url,
                               "--no-progress", "--scratch", str(scratch))
    assert code == 1 and "exists already" in err
    before = set(Path(demo_url.removeprefix("sqlite:///")).parent.iterdir())
    assert run_channel(capsys, "audit", "replay", "--database", demo_url, "--no-progress")[0] == 0
    assert set(Path(demo_url.removeprefix("sqlite:///")).parent.iterdir()) == before


def test_r5_replay_until_a_position_reports_what_the_log_recorded_after_it(
    demo_url: str, capsys: Any
) -> None:
    play(demo_url, a_history())
    with Audit(load().with_database(demo_url)) as audit:
        middle = audit.head // 2
        report = audit.replay_and_compare(until=middle)
    assert report.replayed_to == middle and not report.equal
    code, out, _ = run_channel(capsys, "audit", "replay", "--database", demo_url, "--no-progress",
                               "--until", str(middle), "--format", "json")
    assert code == 1 and f'"replayed_to": {middle}' in out
