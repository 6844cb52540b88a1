"""schemathesis's own runner (`schemathesis run`) against `channel serve` on the demo's data
(`channel demo`, as `make demo` then `make serve`): every check, positive and negative data,
every phase (examples, coverage, fuzzing, stateful), each operation called with a key of a role
it allows. The one place the run is configured: `make test` runs it at a CI size
(tests/e2e/test_http_schemathesis.py), `python -m tests.e2e.schemathesis_run --max-examples 50`
at full size; further options go to `schemathesis run` as they are.

The schemathesis.toml it writes gives, per operation, the key of the first role of PREFERENCE the
document's `x-roles` allow, and real values (the demo's dealers, orders and slips, read back over
HTTP, and the price list's SKUs) as fuzz dictionaries that path parameters, `dealer_id` fields and
order lines draw from half the time, so that generated requests reach the handlers and not only
the 404 of an unknown id. The stateful phase follows the links the document declares (from
`POST /dealers`, `POST /orders`, `POST /api-keys` and a dispute to what goes on with the resource)
and those schemathesis infers from the answers' schemas. A warning that says the run missed what
it should test (FAIL_ON) fails it like a failed check."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.e2e.server import BIN, Client, Server, channel_serve, printed_keys

SCHEMATHESIS = BIN / "schemathesis"
# The key an operation is called with: the first of these its `x-roles` allow (a bare sales key
# names no salesperson, K1, so other roles come first).
PREFERENCE = ("manager", "finance", "auditor", "sales", "admin", "dealer")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
CI_EXAMPLES = 20  # examples per operation in `make test`
FULL_EXAMPLES = 50
# Warnings that fail the run: an operation answered only 401/403, or only 4xx with many 400/422
# (the server refuses what the document admits); a pattern schemathesis cannot use; an
# `[[operations]]` entry that matches no operation; a `$ref` it cannot resolve.
FAIL_ON = ("missing_auth", "validation_mismatch", "unsupported_regex", "unmatched_filter",
           "unresolvable_reference")
# How often a path parameter, a `dealer_id` field or an order line's SKU takes a real one
# rather than a generated one.
REAL_IDS = 0.5
# The operations whose body names a dealer on its own (POST /api-keys names one only with a
# dealer's role, which a value put in after generation would not respect).
BODY_DEALER = ("POST /orders",)


@dataclass(frozen=True)
class World:
    """The keys by role, and the ids the demo recorded (the dealer key's dealer first)."""

    keys: dict[str, str]
    dealers: list[str]
    orders: list[str]
    slips: list[str]
    skus: list[str]


def demo(database_url: str) -> None:
    """The demo's history (`channel demo`): dealers, orders, closed months, slips, pools."""
    subprocess.run([str(BIN / "channel"), "demo", "--database", database_url, "--fresh"],
                   check=True, stdout=subprocess.DEVNULL)


def world(server: Server) -> World:
    """The printed keys, plus a key of a dealer that has slips, and the demo's ids."""
    keys = printed_keys(server.log())
    api = Client(server.url, keys)
    slips = api.ok("GET", "/rebate-slips", role="finance", params={"page_size": 1000})["slips"]
    own = slips[0]["dealer_id"]
    keys["dealer"] = api.ok("POST", "/api-keys", 201, role="admin",
                            json={"role": "dealer", "dealer_id": own, "label": "fuzz"})["key"]
    dealers = [d["dealer_id"] for d in api.ok("GET", "/dealers", role="manager",
                                                  params={"page_size": 1000})["dealers"]]
    orders = [o["order_id"] for o in api.ok("GET", "/orders", role="manager",
                                            params={"page_size": 1000})["orders"]]
    return World(
        keys=keys,
        dealers=[own, *(d for d in dealers if d != own)],
        orders=orders,
        # The dealer key's own slips: the slip operations only a dealer may call reach them.
        slips=[s["slip_id"] for s in slips if s["dealer_id"] == own],
        skus=[i["sku"] for i in api.ok("GET", "/price-list", role="manager")["items"]],
    )


def _toml(value: Any) -> str:
    """A TOML value: strings and arrays as JSON writes them (a TOML basic string is a JSON one)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def _role(operation: dict[str, Any]) -> str | None:
    allowed = operation.get("x-roles")
    if not allowed:
        return None  # public (/healthz)
    return next(r for r in PREFERENCE if r in allowed)


def _real(dictionary: str) -> dict[str, Any]:
    return {"dictionary": dictionary, "probability": REAL_IDS}


def config(document: dict[str, Any], found: World, max_examples: int, seed: int) -> str:
    """schemathesis.toml for the run."""
    lines = [
        f"seed = {seed}",
        "[cache]", "enabled = false",  # every run starts from nothing, as CI's does
        "[warnings]", f"fail-on = {_toml(list(FAIL_ON))}",
        "[generation]", 'mode = "all"', f"max-examples = {max_examples}",
        "with-security-parameters = false", 'database = "none"',
    ]
    ids = {"dealers": found.dealers, "orders": found.orders, "slips": found.slips,
           "skus": found.skus}
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml(values)}"]
    lines.append("[parameters]")
    for parameter, name in (("path.dealer_id", "dealers"), ("query.dealer_id", "dealers"),
                            ("path.order_id", "orders"), ("path.slip_id", "slips"),
                            ("body.lines[*].sku", "skus")):
        lines.append(f"{json.dumps(parameter)} = {_toml(_real(name))}")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            role = _role(operation) if method != "parameters" else None
            if role is None:
                continue
            name = f"{method.upper()} {path}"
            # One filter, the operation's name: two include-* filters would match either.
            lines += ["[[operations]]", f"include-name = {json.dumps(name)}",
                      f"headers = {_toml({'Authorization': f'Bearer {found.keys[role]}'})}"]
            if name in BODY_DEALER:
                lines.append(f'parameters = {_toml({"body.dealer_id": _real("dealers")})}')
    return "\n".join(lines) + "\n"


@contextmanager
def demo_server(directory: Path) -> Iterator[Server]:
    database_url = f"sqlite:///{directory / 'channel.db'}"
    demo(database_url)
    with channel_serve(database_url, directory).start() as server:
        yield server


def run(max_examples: int, seed: int = 1, extra: tuple[str, ...] = (),
        capture: bool = False) -> subprocess.CompletedProcess[str]:
    """`schemathesis run` with every check and phase against a fresh demo server; its exit code
    and (with `capture`) its output."""
    if not SCHEMATHESIS.exists():
        raise FileNotFoundError(f"{SCHEMATHESIS} is missing (pip install -e '.[dev]')")
    with tempfile.TemporaryDirectory(prefix="channel-st-") as tmp:
        directory = Path(tmp)
        with demo_server(directory) as server:
            found = world(server)
            document = requests.get(f"{server.url}/openapi.json", timeout=10).json()
            toml = directory / "schemathesis.toml"
            toml.write_text(config(document, found, max_examples, seed))
            command = [str(SCHEMATHESIS), "--config-file", str(toml), "run",
                       f"{server.url}/openapi.json", "--checks", "all",
                       "--phases", ",".join(PHASES), "--continue-on-failure", "--no-color",
                       *extra]
            # In the scratch directory, so that nothing schemathesis keeps lands in the tree.
            return subprocess.run(command, check=False, cwd=directory, text=True,
                                  capture_output=capture)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=FULL_EXAMPLES)
    parser.add_argument("--seed", type=int, default=1)
    args, extra = parser.parse_known_args()
    try:
        return run(args.max_examples, args.seed, tuple(extra)).returncode
    except FileNotFoundError as missing:
        print(missing, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
