"""`Idempotency-Key` on POST, on gunicorn and PostgreSQL: a client that retries `POST /dealers`
registers one dealer (the README's session run twice takes one tier seat); the repeat answers the
first answer and writes nothing; another body under the same key is 422; concurrent duplicates make
one write (the others replay it, or hear 409 while it is in flight); keys are per API key; the
answers survive a restart of the server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import requests

from tests.e2e.server import Client, gunicorn

DEALER = {"name": "Acme", "region": "east", "tier": "A", "salesperson": "wang",
          "contact": "acme@example.cn"}


def post(url: str, key: str, idem: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{url}/dealers", json=body, timeout=30, headers={
        "Authorization": f"Bearer {key}", "Idempotency-Key": idem})


def dealers(api: Client) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = api.ok("GET", "/dealers", role="sales")["dealers"]
    return listed


def test_idempotency_keys_make_retries_safe_under_concurrency_and_restarts(
    pg_url: str, tmp_path: Path
) -> None:
    server = gunicorn(pg_url, tmp_path, workers=2)
    server.env["CHANNEL_THREADS"] = "4"
    with server.start():
        api = Client(server.url, server.keys)
        senders = 8
        start = Barrier(senders)

        def send(_: int) -> requests.Response:
            start.wait()
            return post(server.url, server.keys["sales"], "register-acme", DEALER)

        with ThreadPoolExecutor(senders) as pool:
            answers = list(pool.map(send, range(senders)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
        created = [a.json() for a in answers if a.status_code == 201]
        assert len({body["id"] for body in created}) == 1  # one write, replayed to the others
        assert sum(a.headers.get("Idempotent-Replayed") != "true"
                   for a in answers if a.status_code == 201) == 1
        for refused in (a for a in answers if a.status_code == 409):
            assert refused.headers["Retry-After"] == "1" and "still being answered" in refused.text
        [dealer] = dealers(api)
        first = created[0]

        again = post(server.url, server.keys["sales"], "register-acme", DEALER)
        assert (again.status_code, again.json()) == (201, first)
        assert again.headers["Idempotent-Replayed"] == "true"
        other = post(server.url, server.keys["sales"], "register-acme", {**DEALER, "name": "B"})
        assert other.status_code == 422 and "Idempotency-Key" in other.json()["errors"]
        assert dealers(api) == [dealer]

        # Scoped per API key: the manager's "register-acme" is its own key.
        mine = post(server.url, server.keys["manager"], "register-acme", {**DEALER, "name": "M"})
        assert mine.status_code == 403  # a manager may not register: answered, and kept
        assert post(server.url, server.keys["manager"], "register-acme",
                    {**DEALER, "name": "M"}).headers["Idempotent-Replayed"] == "true"
        server.stop()

    with server.start():  # the answers are in the database, not in a worker's memory
        replay = post(server.url, server.keys["sales"], "register-acme", DEALER)
        assert (replay.status_code, replay.json()) == (201, first)
        assert len(dealers(Client(server.url, server.keys))) == 1
