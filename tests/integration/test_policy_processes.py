"""R4 across processes: figures are a function of the log alone. Two `channel` processes started
with different policy settings read identical figures from one store, a close from the shell
posts what the log's policy says, a store made before policy versions were events records the
default once on its first open, and `channel policy publish/show` work from the shell."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from infra.settings import Settings
from services.bootstrap import build_application
from services.runtime import build_runtime

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = str(Path(sys.executable).parent / "channel")
D = date.fromisoformat
UNIT = [{"sku": "UNIT", "name": "one yuan of goods", "list_price": "1.00", "floor_price": "0.50"}]


def channel(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHANNEL_")}
    environment.update(env)
    return subprocess.run(
        [CHANNEL, *args, "--database", url], cwd=ROOT, env=environment, capture_output=True,
        text=True, timeout=120,
    )


def json_of(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def seed_july(url: str) -> str:
    """A tier-A dealer (agreed 100,000 a month) with 150,000 delivered in July 2026, June closed."""
    rt = build_runtime(Settings().with_database(url), clock=lambda: date(2026, 8, 2))
    app = rt.app
    try:
        app.publish_price_list(D("2026-03-01"), UNIT)
        dealer_id = str(app.register_dealer("Alpha", "east", "A", "alice", "c", D("2026-03-02")).value.id)
        app.sign_draft_agreement(dealer_id, D("2026-03-03"))
        app.submit_forecast(dealer_id, [("2026-07", "100000"), ("2026-08", "100000"), ("2026-09", "1")])
        app.sign_formal_agreement(dealer_id, D("2026-03-04"), "100000", 12)
        for ref, units in (("july-a", 100_000), ("july-b", 50_000)):  # O1: ≤ 100,000 a line
            order = app.place_order(dealer_id, ref, D("2026-07-10"), "east", "prepaid",
                                    [{"sku": "UNIT", "qty": units, "unit_price": "1.00"}]).value
            app.record_payment(str(order.id), D("2026-07-10"), order.total)
            app.ship_order(str(order.id), D("2026-07-10"))
            app.deliver_order(str(order.id), D("2026-07-10"))
        rt.refresh()
    finally:
        rt.close()
    return dealer_id


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    return url, seed_july(url)


def test_r4_two_processes_with_different_policy_settings_read_identical_figures(
    store: tuple[str, str],
) -> None:
    url, _ = store
    plain = channel(url, "report", "rebates", "--period", "2026-07", "--format", "json")
    other = channel(
        url, "report", "rebates", "--period", "2026-07", "--format", "json",
        CHANNEL_POLICY_FILE=str(ROOT / "examples" / "proposal.toml"),
    )
    assert json_of(plain) == json_of(other)
    assert "CHANNEL_POLICY_FILE is not read" in other.stderr
    (monthly,) = [e for e in json_of(plain)["entries"] if e["kind"] == "monthly"]
    assert (monthly["amount"], monthly["policy_version"]) == ("3000.00", "2026.1")


def test_r4_a_close_from_the_shell_posts_what_the_log_policy_says_whatever_its_environment(
    store: tuple[str, str],
) -> None:
    url, _ = store
    proposal = str(ROOT / "examples" / "proposal.toml")
    published = channel(url, "policy", "publish", proposal, "--effective-from", "2026-07-01",
                        "--id", "2026.7", "--note", "A monthly rate 2.5 %")
    assert published.returncode == 0, published.stderr
    assert "published policy 2026.7 from 2026-07-01" in published.stdout
    closed = channel(url, "close-period", "2026-07", "--closed-on", "2026-08-01")
    assert closed.returncode == 0, closed.stderr
    report = json_of(channel(url, "report", "rebates", "--period", "2026-07", "--format", "json",
                             CHANNEL_POLICY_FILE=str(ROOT / "policy" / "default.toml")))
    (monthly,) = [e for e in report["entries"] if e["kind"] == "monthly"]
    assert (monthly["status"], monthly["amount"], monthly["policy_version"]) == (
        "posted", "3750.00", "2026.7",
    )
    replay = channel(url, "audit", "replay", CHANNEL_POLICY_FILE=proposal)
    assert replay.returncode == 0, replay.stdout + replay.stderr


def test_r4_channel_policy_show_lists_the_recorded_versions_and_republishing_writes_nothing(
    store: tuple[str, str],
) -> None:
    url, _ = store
    file = str(ROOT / "examples" / "proposal.toml")
    first = channel(url, "policy", "publish", file, "--effective-from", "2026-08-01", "--id", "P")
    again = channel(url, "policy", "publish", file, "--effective-from", "2026-08-01", "--id", "P")
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert "recorded already" in again.stdout
    versions = json_of(channel(url, "policy", "show", "--format", "json"))
    assert [(v["id"], v["effective_from"]) for v in versions] == [("2026.1", "2026-01-01"),
                                                                  ("P", "2026-08-01")]
    (in_force,) = json_of(channel(url, "policy", "show", "--on", "2026-07-31", "--format", "json"))
    assert in_force["id"] == "2026.1"
    assert in_force["monthly_rebate"]["A"] == "0.020"
    taken = channel(url, "policy", "publish", file, "--effective-from", "2026-09-01", "--id", "P")
    assert taken.returncode == 1 and "[R4]" in taken.stderr


def test_r4_a_closed_month_cannot_take_a_new_version_from_the_shell(store: tuple[str, str]) -> None:
    url, _ = store
    refused = channel(url, "policy", "publish", str(ROOT / "examples" / "proposal.toml"),
                      "--effective-from", "2026-06-30", "--id", "late")
    assert refused.returncode == 0  # June is still open in this store …
    channel(url, "close-period", "2026-06", "--closed-on", "2026-07-01")
    late = channel(url, "policy", "publish", str(ROOT / "examples" / "proposal.toml"),
                   "--effective-from", "2026-06-15", "--id", "later")
    assert late.returncode == 1 and "[O6]" in late.stderr  # … and closed now


def test_r4_a_store_made_before_policy_events_records_the_default_once_on_first_open_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings().with_database(f"sqlite:///{tmp_path / 'old.db'}")
    old = build_application(settings, open_policy=False)  # as an earlier release wrote it
    old.register_dealer("Alpha", "east", "A", "alice", "c", D("2026-03-02"))
    head = old.recorder.max_notification_id()
    old.close()
    with caplog.at_level(logging.WARNING, logger="channel.ledger"):
        opened = build_application(settings)
    assert "holds 1 events but no policy version" in caplog.text
    (published,) = opened.get_policy().published
    assert f"its log held {head} events" in published["note"]
    count = opened.recorder.max_notification_id()
    opened.close()
    again = build_application(settings)
    assert again.recorder.max_notification_id() == count  # once
    again.close()
