"""schemathesis against `/openapi.json` of a running server (`channel serve` on the embedded
default, as `make serve` starts it): generated requests, valid and invalid, to every operation with
a key of a role it allows; no 5xx, and every response matches the status codes, content type and
schema the document declares. Bounded in examples so that `make test` stays quick."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.e2e.server import Client, Server, channel_serve, printed_keys

MAX_EXAMPLES = 10
PREFERENCE = ("manager", "finance", "auditor", "sales", "admin", "dealer")
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    """`channel serve` on a fresh SQLite file; a dealer is registered and given a key so that
    the dealer-only operations have a caller too."""
    directory = Path(tmp_path_factory.mktemp("schemathesis"))
    with channel_serve(f"sqlite:///{directory / 'channel.db'}", directory).start() as server:
        keys = printed_keys(server.log())
        api = Client(server.url, keys)
        dealer_id = api.ok("POST", "/dealers", 201, role="sales", json={
            "name": "Fuzz", "region": "east", "tier": "A", "salesperson": "alice",
            "contact": "fuzz@example.com"})["id"]
        keys["dealer"] = api.ok("POST", "/api-keys", 201, role="admin",
                                json={"role": "dealer", "dealer_id": dealer_id})["key"]
        yield server, keys


@pytest.fixture(scope="module")
def api_schema(served: tuple[Server, dict[str, str]]) -> OpenApiSchema:
    server, _ = served
    config = schemathesis.Config.from_dict({
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "with-security-parameters": False,
            "allow-x00": True,
        },
    })
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened


def test_channel_serve_starts_in_one_command_and_prints_one_key_per_role(
    served: tuple[Server, dict[str, str]],
) -> None:
    server, _ = served
    printed = printed_keys(server.log())
    assert set(printed) == {"sales", "manager", "finance", "auditor", "admin"}
    assert "channel keys create --role dealer --dealer-id" in server.log()
    for role, key in printed.items():  # each printed key works, for its role
        answer = requests.get(f"{server.url}/price-list", timeout=10,
                              headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 404, (role, answer.text)  # no price list yet; not 401
    assert all(key not in server.log().split("API keys")[-1].split("serving on")[-1]
               for key in printed.values()), "a key appeared in the request log"


def test_the_document_served_is_openapi_3_with_every_operation_guarded(
    served: tuple[Server, dict[str, str]],
) -> None:
    server, _ = served
    document = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters" or path == "/healthz":
                continue
            assert operation["x-roles"], (method, path)
            assert {"401", "403", "default"} <= set(operation["responses"]), (method, path)


def exercise(cases: SearchStrategy[Any], call: Callable[[Any], None]) -> None:
    """Run `call` on generated cases, bounded, deterministic, without shrinking."""

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def run(case: Any) -> None:
        call(case)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_generated_requests_get_no_5xx_and_answers_match_the_document(
    api_schema: OpenApiSchema,
    served: tuple[Server, dict[str, str]],
    session: requests.Session,
    mode: GenerationMode,
) -> None:
    """Each operation in turn (schemathesis's pytest plugin does not run under pytest 9), with a
    key of the first role it allows; every failure is collected, then reported together."""
    server, keys = served
    names = [*CHECK_NAMES, *(["negative_data_rejection"] if mode == GenerationMode.NEGATIVE else [])]
    checks = CHECKS.get_by_names(names)
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        allowed = operation.definition.raw.get("x-roles") or ["sales"]
        # A caller the operation lets through (a bare sales key names no salesperson: K1).
        role = next(r for r in PREFERENCE if r in allowed)
        headers = {"Authorization": f"Bearer {keys[role]}"}


        def call(case: Any, headers: dict[str, str] = headers) -> None:
            case.call_and_validate(base_url=server.url, session=session, headers=headers,
                                   checks=checks)

        try:
            exercise(operation.as_strategy(generation_mode=mode), call)
        except Unsatisfiable:
            continue  # nothing to make invalid (no parameters, or a free-form string)
        except Exception as error:  # collect, to report every operation that fails
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
