"""schemathesis against `/openapi.json` of a running server (`channel serve`, as `make serve`
starts it): the one-command start and the document, then schemathesis's own runner with every
check and every phase (examples, coverage, fuzzing, stateful), positive and negative data, each
operation with a key of a role it allows, on the demo's data (tests/e2e/schemathesis_run.py, which
holds the run's whole configuration). At CI_EXAMPLES examples per operation, so that `make test`
stays quick; `python -m tests.e2e.schemathesis_run` runs it at full size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis

from tests.e2e import schemathesis_run
from tests.e2e.server import Server, channel_serve, printed_keys
from tests.support import unavailable


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`channel serve` on a fresh SQLite file, as a new user starts it."""
    directory = Path(tmp_path_factory.mktemp("serve"))
    with channel_serve(f"sqlite:///{directory / 'channel.db'}", directory).start() as server:
        yield server


def test_channel_serve_starts_in_one_command_and_prints_one_key_per_role(served: Server) -> None:
    printed = printed_keys(served.log())
    assert set(printed) == {"sales", "manager", "finance", "auditor", "admin"}
    assert "channel keys create --role dealer --dealer-id" in served.log()
    for role, key in printed.items():  # each printed key works, for its role
        answer = requests.get(f"{served.url}/price-list", timeout=10,
                              headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 404, (role, answer.text)  # no price list yet; not 401
    assert all(key not in served.log().split("API keys")[-1].split("serving on")[-1]
               for key in printed.values()), "a key appeared in the request log"


def test_the_document_served_is_openapi_3_with_every_operation_guarded(served: Server) -> None:
    document = requests.get(f"{served.url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters" or path == "/healthz":
                continue
            assert operation["x-roles"], (method, path)
            assert {"401", "403", "default"} <= set(operation["responses"]), (method, path)


def test_the_runner_calls_each_operation_with_a_key_of_a_role_it_allows(served: Server) -> None:
    """The configuration the run writes, read back by schemathesis's own loader: every guarded
    operation is sent with the key of a role its `x-roles` name (a key of another role would
    test only the 403), the public one with none."""
    document = requests.get(f"{served.url}/openapi.json", timeout=10).json()
    keys = {role: f"key-of-{role}" for role in schemathesis_run.PREFERENCE}
    found = schemathesis_run.World(keys=keys, dealers=["d"], orders=["o"], slips=["s"],
                                   skus=["k"])
    config = schemathesis.Config.from_str(schemathesis_run.config(document, found, 3, 1))
    schema = schemathesis.openapi.from_dict(document, config=config)
    sent = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = schema.config.headers_for(operation=operation)
        sent[operation.label] = (headers.get("Authorization", "").removeprefix("Bearer key-of-"),
                                 operation.definition.raw.get("x-roles") or [])
    assert len(sent) == sum(m != "parameters" for ops in document["paths"].values() for m in ops)
    for label, (role, allowed) in sent.items():
        assert role in allowed if allowed else role == "", (label, role, allowed)


@pytest.mark.timeout(600)
def test_schemathesis_with_every_check_and_phase_finds_no_failure() -> None:
    if not schemathesis_run.SCHEMATHESIS.exists():
        unavailable(f"{schemathesis_run.SCHEMATHESIS} is missing (pip install -e '.[dev]')")
    done = schemathesis_run.run(schemathesis_run.CI_EXAMPLES, capture=True)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20000:]
    summary = output.split("=== SUMMARY ===")[-1]
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", summary)
    assert selected and len(set(selected.groups())) == 1, summary  # every operation was tested
    for phase in schemathesis_run.PHASES:  # every phase ran (a skipped one would not fail)
        assert f"✅ {phase.capitalize()}" in summary, summary
