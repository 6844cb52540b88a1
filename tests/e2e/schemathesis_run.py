"""schemathesis's own runner (`schemathesis run`) against `channel serve` on a fresh SQLite file:
every check, positive and negative data, every phase (examples, coverage, fuzzing, stateful),
each operation called with a key of a role it allows (a schemathesis.toml written from the
document's `x-roles`). `python -m tests.e2e.schemathesis_run --max-examples 50`."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from tests.e2e.server import BIN, Client, Server, channel_serve, printed_keys

PREFERENCE = ("manager", "finance", "auditor", "sales", "admin", "dealer")
PHASES = "examples,coverage,fuzzing,stateful"


def prepare(server: Server) -> dict[str, str]:
    """The printed keys, plus a dealer and its key, so that dealer-only operations have a caller."""
    keys = printed_keys(server.log())
    api = Client(server.url, keys)
    dealer_id = api.ok("POST", "/dealers", 201, role="sales", json={
        "name": "Fuzz", "region": "east", "tier": "A", "salesperson": "alice",
        "contact": "fuzz@example.com"})["id"]
    keys["dealer"] = api.ok("POST", "/api-keys", 201, role="admin",
                            json={"role": "dealer", "dealer_id": dealer_id})["key"]
    return keys


def config(document: dict[str, object], keys: dict[str, str], max_examples: int, seed: int) -> str:
    """schemathesis.toml: the generation settings, and per operation the key of a role it allows
    (a bare sales key names no salesperson: K1, so other roles come first)."""
    lines = [f"seed = {seed}", "", "[generation]", 'mode = "all"',
             f"max-examples = {max_examples}", "with-security-parameters = false", ""]
    paths = document["paths"]
    assert isinstance(paths, dict)
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            allowed = operation.get("x-roles") or ["sales"]
            role = next(r for r in PREFERENCE if r in allowed)
            lines += ["[[operations]]", f"include-path = {json.dumps(path)}",
                      f'include-method = "{method.upper()}"',
                      f'headers = {{ Authorization = "Bearer {keys[role]}" }}', ""]
    return "\n".join(lines)


def run(max_examples: int, seed: int = 1, extra: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="channel-st-") as tmp:
        directory = Path(tmp)
        with channel_serve(f"sqlite:///{directory / 'channel.db'}", directory).start() as server:
            keys = prepare(server)
            document = requests.get(f"{server.url}/openapi.json", timeout=10).json()
            toml = directory / "schemathesis.toml"
            toml.write_text(config(document, keys, max_examples, seed))
            command = [str(BIN / "schemathesis"), "--config-file", str(toml), "run",
                       f"{server.url}/openapi.json", "--checks", "all", "--phases", PHASES,
                       "--continue-on-failure", "--no-color", *(extra or [])]
            return subprocess.run(command, check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args, extra = parser.parse_known_args()
    return run(args.max_examples, args.seed, extra)


if __name__ == "__main__":
    sys.exit(main())
