"""Faults under load on PostgreSQL: a private PostgreSQL cluster (initdb in a temporary directory,
never the machine's shared server) is restarted while clients place orders. Requests during the
outage answer 503 with Retry-After, never 500; the clients retry with the same client reference
and Idempotency-Key; afterwards every acknowledged order is in the log exactly once. And a
worker killed with SIGKILL mid-command: the log and the read model agree (audit verify), the
clients' retries get one order each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.e2e.server import Client, gunicorn, priced_buyer
from tests.support import unavailable
from tests.support.postgres import PostgresUnavailable, ThrowawayPostgres, postgres_bindir

BIN = Path(sys.executable).parent
CLIENTS = 3
ORDERS_EACH = 15


@pytest.fixture
def private_postgres() -> Iterator[ThrowawayPostgres]:
    bindir = postgres_bindir()
    if bindir is None:
        unavailable("no initdb/postgres binaries for a private PostgreSQL cluster")
    try:
        server = ThrowawayPostgres(bindir)
    except PostgresUnavailable as exc:
        unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()


def placed_orders(url: str) -> Counter[str]:
    """client_ref -> how many times the log records the order's creation."""
    return placed_orders_in(url, "public")


def placed_orders_in(url: str, schema: str) -> Counter[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f'SELECT state FROM "{schema}".channelledger_events WHERE topic LIKE %s',
            ("%Order.Placed",)).fetchall()
    return Counter(json.loads(bytes(row[0]))["client_ref"] for row in rows)


def test_postgresql_restarted_while_clients_place_orders(
    private_postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    server = gunicorn(private_postgres.url, tmp_path, workers=2)
    with server.start():
        api = Client(server.url, server.keys)
        dealer_id = priced_buyer(api)
        acknowledged: list[str] = []
        statuses: Counter[int] = Counter()
        retry_after: set[str] = set()
        lock = threading.Lock()

        def place(client: int) -> None:
            session = requests.Session()
            for n in range(ORDERS_EACH):
                ref = f"PO-{client}-{n}"
                body = {"dealer_id": dealer_id, "client_ref": ref, "order_date": "2026-04-01",
                        "ship_to_region": "east", "payment": "prepaid",
                        "lines": [{"sku": "ML-AP300", "qty": 1}]}
                for _ in range(200):  # retried with the same reference and key until answered
                    try:
                        response = session.post(f"{server.url}/orders", json=body, timeout=30,
                                                headers={"Authorization":
                                                         f"Bearer {server.keys['sales']}",
                                                         "Idempotency-Key": ref})
                    except requests.ConnectionError:
                        time.sleep(0.2)
                        continue
                    with lock:
                        statuses[response.status_code] += 1
                        if response.status_code == 503:
                            retry_after.add(response.headers.get("Retry-After", ""))
                    if response.status_code in (200, 201):
                        with lock:
                            acknowledged.append(ref)
                        break
                    time.sleep(0.2)
                time.sleep(0.05)

        threads = [threading.Thread(target=place, args=(c,)) for c in range(CLIENTS)]
        for thread in threads:
            thread.start()
        while len(acknowledged) < CLIENTS * 2:
            time.sleep(0.05)
        private_postgres.restart(down_seconds=2)
        for thread in threads:
            thread.join(timeout=300)
        assert not any(t.is_alive() for t in threads)

    assert statuses[500] == 0, statuses
    assert statuses[503] >= 1 and retry_after == {"2"}, statuses
    assert len(acknowledged) == CLIENTS * ORDERS_EACH
    placed = placed_orders(private_postgres.url)
    assert placed == Counter({ref: 1 for ref in acknowledged}), "every order once, none doubled"


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_worker_killed_mid_command_leaves_no_partial_state_and_the_retry_gets_one_order(
    pg_url: str, tmp_path: Path
) -> None:
    server = gunicorn(pg_url, tmp_path, workers=2)
    server.env["CHANNEL_IDEMPOTENCY_ABANDON_AFTER"] = "2"
    with server.start():
        assert server.process is not None
        api = Client(server.url, server.keys)
        dealer_id = priced_buyer(api)
        acknowledged: list[str] = []
        cut: list[str] = []  # requests whose connection the kill cut

        def place() -> None:
            session = requests.Session()
            for n in range(30):
                ref = f"PO-{n}"
                body = {"dealer_id": dealer_id, "client_ref": ref, "order_date": "2026-04-01",
                        "ship_to_region": "east", "payment": "prepaid",
                        "lines": [{"sku": "ML-AP300", "qty": 1 + n % 3}]}
                for _ in range(300):
                    try:
                        response = session.post(f"{server.url}/orders", json=body, timeout=30,
                                                headers={"Authorization":
                                                         f"Bearer {server.keys['sales']}",
                                                         "Idempotency-Key": ref})
                    except requests.ConnectionError:
                        cut.append(ref)
                        session = requests.Session()
                        time.sleep(0.1)
                        continue
                    assert response.status_code in (200, 201, 409, 503), response.text
                    if response.status_code in (200, 201):
                        acknowledged.append(ref)
                        break
                    time.sleep(0.2)

        clients = [threading.Thread(target=place) for _ in range(2)]
        for thread in clients:
            thread.start()
        while len(acknowledged) < 6:
            time.sleep(0.01)
        for pid in worker_pids(server.process.pid):  # both: one of them is mid-command
            os.kill(pid, signal.SIGKILL)
        for thread in clients:
            thread.join(timeout=300)
        assert not any(t.is_alive() for t in clients)
        assert cut, "the kill cut no request in flight"
        assert set(acknowledged) == {f"PO-{n}" for n in range(30)}
        orders = api.ok("GET", "/orders", role="sales",
                        params={"dealer_id": dealer_id, "page_size": 100})["orders"]
        assert sorted(o["client_ref"] for o in orders) == sorted({f"PO-{n}" for n in range(30)})

    base, schema = pg_url.split("?schema=")
    placed = placed_orders_in(base, schema)
    assert placed == Counter({f"PO-{n}": 1 for n in range(30)})
    verify = subprocess.run([str(BIN / "channel"), "audit", "verify", "--database", pg_url],
                            capture_output=True, text=True, timeout=300, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
