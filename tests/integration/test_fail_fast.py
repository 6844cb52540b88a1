"""A wrong setting is one line and a non-zero exit, said at once (DESIGN's CLI contract): a missing
SQLite file is refused, an unreachable PostgreSQL is named (host, login or database), a bad key
file stops the server before any worker starts, `relay --once` gives up at its deadline; and the
embedded default's files are readable by their owner only."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli import main
from tests.support import free_port
from tests.support.postgres import split_schema

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def channel(*args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHANNEL_")}
    environment.update(env or {})
    return subprocess.run([str(BIN / "channel"), *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)


def one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_a_report_on_a_mistyped_sqlite_path_is_refused_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "chanel.db"
    assert main(["report", "rebates", "--database", f"sqlite:///{typo}"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "no SQLite file" in line and str(typo) in line
    assert not typo.exists()
    assert main(["audit", "verify", "--database", f"sqlite:///{typo}"]) == 1
    assert "no SQLite file" in capsys.readouterr().err and not typo.exists()


def test_create_makes_a_new_store_readable_by_its_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "new.db"
    assert main(["keys", "create", "--role", "sales", "--create",
                 "--database", f"sqlite:///{store}"]) == 0
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert main(["keys", "list", "--database", f"sqlite:///{store}"]) == 0


def test_the_demo_store_and_its_wal_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    store = tmp_path / "demo.db"
    done = channel("demo", "--database", f"sqlite:///{store}", "--fresh", timeout=300)
    assert done.returncode == 0, done.stderr
    for file in (store, Path(f"{store}-wal"), Path(f"{store}-shm")):
        if file.exists():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_a_refused_postgresql_host_is_named_in_one_line(
    capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    assert main(["report", "rebates", "--database", f"postgresql://x@127.0.0.1:{port}/db"]) == 1
    line = one_line(capsys.readouterr().err)
    assert f"127.0.0.1:{port}" in line and "refused" in line


def test_a_missing_postgresql_database_is_named(
    postgres_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = split_schema(postgres_server)[0].rsplit("/", 1)[0]
    assert main(["report", "rebates", "--database", f"{base}/no_such_db_here"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "no database 'no_such_db_here'" in line


def test_a_failed_postgresql_login_is_named(
    postgres_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    host_db = split_schema(postgres_server)[0].split("@", 1)[-1]
    assert main(["report", "rebates", "--database", f"postgresql://nobody_here@{host_db}"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "refused the login of user 'nobody_here'" in line


def test_a_bad_key_file_stops_the_server_with_one_line_before_any_worker(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"short": {"role": "sales"}}))
    env = {"CHANNEL_API_KEYS": str(keys), "CHANNEL_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
           "CHANNEL_PORT": str(free_port())}
    done = channel("serve", env=env)
    assert done.returncode != 0
    assert "CHANNEL_API_KEYS" in one_line(done.stderr) and "Booting worker" not in done.stdout
    gunicorn = subprocess.run(
        [str(BIN / "gunicorn"), "-c", "services/http/gunicorn_conf.py",
         "services.http.wsgi:create()"], cwd=ROOT, env={**env, "PATH": str(BIN)},
        capture_output=True, text=True, timeout=60, check=False)
    assert gunicorn.returncode != 0
    assert "CHANNEL_API_KEYS" in gunicorn.stderr
    assert "Traceback" not in gunicorn.stderr and "Booting worker" not in gunicorn.stderr


def test_relay_once_against_a_dead_broker_exits_non_zero_at_its_deadline(pg_url: str) -> None:
    dead = f"127.0.0.1:{free_port()}"
    done = channel("relay", "--once", "--timeout", "3", "--bootstrap", dead,
                   env={"CHANNEL_DATABASE_URL": pg_url}, timeout=60)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "relay --once" in last and dead in last, done.stderr
