"""A real server process for end-to-end tests: gunicorn (directly, or through `channel serve`),
its log in a file, stopped with SIGTERM; and a small requests client with one key per role."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from examples.ml_company import PRICE_LIST
from tests.support import free_port, kill_with_parent

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROLES = ("sales", "manager", "finance", "auditor", "admin")


def keys_file(directory: Path) -> tuple[Path, dict[str, str]]:
    """A CHANNEL_API_KEYS file with one bootstrap key per role but dealer; returns role -> key."""
    keys = {role: f"e2e-{role}-{secrets.token_urlsafe(24)}" for role in ROLES}
    path = directory / "api-keys.json"
    path.write_text(json.dumps({key: {"role": role} for role, key in keys.items()}))
    return path, keys


@dataclass
class Server:
    """A server process at `url`; `keys` maps a role to a key for it."""

    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    keys: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60, *, healthy: bool = True) -> Server:
        """Returns once /healthz answers 200 — or, with `healthy=False`, answers at all (503
        degraded: a server on a database whose read model is stopped)."""
        answers = (200,) if healthy else (200, 503)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=kill_with_parent(signal.SIGTERM),
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code in answers:
                    return self
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not answer /healthz in time:\n{self.log()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def environment(database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANNEL_")}
    env.update(CHANNEL_DATABASE_URL=database_url, CHANNEL_PORT=str(port), **extra)
    return env


def gunicorn(database_url: str, directory: Path, workers: int = 2) -> Server:
    """gunicorn run directly on the documented entry point, bootstrap keys from a file."""
    path, keys = keys_file(directory)
    port = free_port()
    env = environment(database_url, port, CHANNEL_API_KEYS=str(path),
                      CHANNEL_WORKERS=str(workers))
    command = [str(BIN / "gunicorn"), "-c", "services/http/gunicorn_conf.py",
               "services.http.wsgi:create()"]
    return Server(command, env, directory / "server.log", port, keys)


def channel_serve(database_url: str, directory: Path, workers: int = 1) -> Server:
    """`channel serve` on the embedded default: it makes one key per role and prints them."""
    port = free_port()
    env = environment(database_url, port)
    command = [str(BIN / "channel"), "serve", "--port", str(port), "--workers", str(workers)]
    server = Server(command, env, directory / "server.log", port)
    return server


def printed_keys(log: str) -> dict[str, str]:
    """The role -> key lines `channel serve` prints at start."""
    keys = {}
    for line in log.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ROLES and parts[1].startswith("chl_"):
            keys[parts[0]] = parts[1]
    return keys


@dataclass
class Client:
    """requests against a server, with a key per role (and any key given)."""

    url: str
    keys: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, role: str | None = None, key: str | None = None,
             **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        token = key or (self.keys[role] if role else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.url + path, headers=headers, timeout=30,
                                    **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        body = response.json() if response.content else None
        assert response.status_code == status, (method, path, response.status_code, body)
        return body


def priced_buyer(api: Client) -> str:
    """Publish the demo's price list and register an industry customer (tier END: it orders at list
    price with no agreement); returns the customer's id."""
    api.ok("PUT", "/price-list", 201, role="manager",
           json={"effective_from": "2026-03-01", "items": PRICE_LIST})
    buyer: str = api.ok("POST", "/dealers", 201, role="sales", json={
        "name": "Buyer", "region": "east", "tier": "END", "salesperson": "wang",
        "contact": "b@example.cn"})["id"]
    return buyer
