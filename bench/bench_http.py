"""HTTP intake on gunicorn + PostgreSQL: concurrent clients placing and confirming orders, against a
trivial Flask + marshmallow app doing one INSERT+COMMIT per request on the same gunicorn settings and
clients (bench/trivial_app.py); the SQL statements PostgreSQL is sent per order (bench/pgcount.py)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.common import Rate, figure, postgres_base_url, scratch_schema, server_version
from bench.pgcount import StatementCounter
from infra.persistence import parse_database_url
from tests.e2e.server import BIN, Client, Server, environment, gunicorn
from tests.support import free_port

ORDER_DATE = "2026-05-11"  # after the agreements' first months, as in steady trading
ITEMS = [
    {"sku": "ROUTER", "name": "Edge router", "list_price": "1000.00", "floor_price": "600.00"},
    {"sku": "SWITCH", "name": "Access switch", "list_price": "250.00", "floor_price": "150.00"},
]
AT_TIER = [{"sku": "ROUTER", "qty": 2}, {"sku": "SWITCH", "qty": 3}]
BELOW_TIER = [{"sku": "ROUTER", "qty": 2, "unit_price": "700.00"}]  # AA price 780.00 (P3)


def seed(api: Client, dealers: int) -> list[str]:
    """Prices and `dealers` active tier-AA dealers, over HTTP: a formal agreement (O2) and a first
    order in January (D3), so that May's orders no longer add to the C2 qualifying months."""
    api.ok("PUT", "/price-list", 201, role="manager",
           json={"effective_from": "2026-01-01", "items": ITEMS})
    ids = []
    for i in range(dealers):
        dealer_id = api.ok("POST", "/dealers", 201, role="sales", json={
            "name": f"bench-{i}", "region": "east", "tier": "AA", "salesperson": "alice",
            "contact": "bench@example.com", "registered_on": "2026-01-02"})["id"]
        path = f"/dealers/{dealer_id}"
        api.ok("POST", f"{path}/draft-agreement", role="sales", json={"signed_on": "2026-01-03"})
        api.ok("POST", f"{path}/forecasts", role="sales", json={"months": [
            {"month": m, "amount": "1000"} for m in ("2026-01", "2026-02", "2026-03")]})
        api.ok("POST", f"{path}/formal-agreement", role="manager",
               json={"signed_on": "2026-01-05", "monthly_amount": "1000", "term_months": 12})
        api.ok("POST", "/orders", 201, role="sales", json={
            "dealer_id": dealer_id, "client_ref": "first", "order_date": "2026-01-10",
            "ship_to_region": "east", "payment": "prepaid", "lines": AT_TIER})
        ids.append(dealer_id)
    return ids


def run_clients(
    api: Client, clients: int, orders: int, work: Callable[[Client, int, list[float]], None]
) -> tuple[Rate, list[float]]:
    """`orders` units of `work` spread over `clients` threads with a session each; the rate of
    confirmed orders and every request's latency in seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        own = Client(api.url, api.keys)
        mine: list[float] = []
        start.wait()
        for i in range(index, orders, clients):
            work(own, i, mine)
        with lock:
            latencies.extend(mine)

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, c) for c in range(clients)]
        start.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - began
    return Rate("", orders, elapsed), latencies


def timed(api: Client, latencies: list[float], method: str, path: str, status: int,
          **kwargs: Any) -> Any:
    began = time.perf_counter()
    body = api.ok(method, path, status, **kwargs)
    latencies.append(time.perf_counter() - began)
    return body


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency_line(latencies: list[float]) -> str:
    return (f"p50 / p99 / mean {percentile(latencies, 0.50) * 1000:.1f} / "
            f"{percentile(latencies, 0.99) * 1000:.1f} / {statistics.fmean(latencies) * 1000:.1f} ms"
            f" ({len(latencies)} requests)")


def order_body(dealers: list[str], i: int, prefix: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"dealer_id": dealers[i % len(dealers)], "client_ref": f"{prefix}-{i}",
            "order_date": ORDER_DATE, "ship_to_region": "east", "payment": "prepaid",
            "lines": lines}


def through(url: str, port: int) -> str:
    """The same database URL, reaching the server through a local port (the statement counter)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def trivial_server(url: str, directory: Path, workers: int) -> Server:
    """bench/trivial_app.py under gunicorn with the intake's settings (bench/trivial_conf.py: its
    threaded worker, its threads, keep-alive and limits)."""
    database = parse_database_url(url)
    table = f'"{database.schema}"."bench_trivial_orders"'
    with psycopg.connect(database.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
    port = free_port()
    command = [str(BIN / "gunicorn"), "-c", "bench/trivial_conf.py", "bench.trivial_app:create()"]
    return Server(command, environment(
        url, port, CHANNEL_WORKERS=str(workers), BENCH_TRIVIAL_CONNINFO=database.conninfo(),
        BENCH_TRIVIAL_TABLE=table), directory / "trivial.log", port)


def measure(orders: int, clients: int, workers: int, dealers_count: int, counted: int,
            database: str | None = None, approvals: bool = False) -> dict[str, Any]:
    """The intake's orders/s and latencies, the trivial app's, and statements per order."""
    found: dict[str, Any] = {}
    with postgres_base_url(database) as base, scratch_schema(base) as url, \
            tempfile.TemporaryDirectory(prefix="bench-http-") as scratch:
        found["server"] = server_version(url)
        with gunicorn(url, Path(scratch), workers=workers).start() as server:
            api = Client(server.url, server.keys)
            dealers = seed(api, dealers_count)

            def place(client: Client, i: int, latencies: list[float]) -> None:
                order = timed(client, latencies, "POST", "/orders", 201, role="sales",
                              json=order_body(dealers, i, "auto", AT_TIER))
                assert order["status"] == "confirmed"

            def place_and_approve(client: Client, i: int, latencies: list[float]) -> None:
                order = timed(client, latencies, "POST", "/orders", 201, role="sales",
                              json=order_body(dealers, i, "approved", BELOW_TIER))
                assert order["status"] == "awaiting_approval"
                decided = timed(client, latencies, "POST", f"/orders/{order['id']}/approval",
                                200, role="manager", json={"approve": True, "note": "bench"})
                assert decided["status"] == "confirmed"
                # Read-your-writes: the read after the command sees it.
                seen = client.ok("GET", f"/orders/{order['id']}", role="manager")
                assert seen["status"] == "confirmed"

            try:
                place(api, -1, [])  # warm every layer before measuring
                found["placed"] = run_clients(api, clients, orders, place)
                if approvals:
                    found["approved"] = run_clients(api, clients, orders, place_and_approve)
            except Exception:
                print("the server's log ends with:\n" + "\n".join(server.log().splitlines()[-30:]))
                raise
        with trivial_server(url, Path(scratch), workers).start() as trivial:
            api = Client(trivial.url, {})

            def insert(client: Client, i: int, latencies: list[float]) -> None:
                timed(client, latencies, "POST", "/orders", 201,
                      json=order_body(dealers, i, "trivial", AT_TIER))

            insert(api, -1, [])
            found["trivial"] = run_clients(api, clients, orders, insert)
        database_ = parse_database_url(url)
        with StatementCounter(database_.host, database_.port) as counter, \
                gunicorn(through(url, counter.port), Path(scratch), workers=workers).start() as server:
            api = Client(server.url, server.keys)
            for i in range(workers * 2):  # every worker warm, its pool filled
                api.ok("POST", "/orders", 201, role="sales",
                       json=order_body(dealers, i, "warm", AT_TIER))
            time.sleep(1.0)  # the read side idle again
            before = counter.counts()
            for i in range(counted):
                api.ok("POST", "/orders", 201, role="sales",
                       json=order_body(dealers, i, "counted", AT_TIER))
            after = counter.counts()
        found["statements"] = (after[0] - before[0]) / counted
        found["round_trips"] = (after[1] - before[1]) / counted
    return found


def figures(quick: bool = False, database: str | None = None) -> list[dict[str, Any]]:
    orders, counted = (200, 50) if quick else (600, 200)
    found = measure(orders, 8, 4, 20, counted, database)
    placed, latencies = found["placed"]
    trivial, _ = found["trivial"]
    return [
        figure("http_orders", placed.per_second, "orders/s", trivial.per_second, ">= 0.6"),
        figure("http_statements_per_order", found["statements"], "statements", 12.0, "<= 1.0"),
        figure("http_p99_ms", percentile(latencies, 0.99) * 1000, "ms", 50.0, "<= 1.0"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench http", description=__doc__)
    parser.add_argument("--orders", type=int, default=600, help="orders per measure (default 600)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--dealers", type=int, default=20, help="dealers ordering (default 20)")
    parser.add_argument("--counted", type=int, default=200,
                        help="orders whose SQL statements are counted (default 200)")
    parser.add_argument("--approvals", action="store_true",
                        help="also orders placed, approved (P3) and read back")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL base URL (default: as the tests find one)")
    args = parser.parse_args()
    found = measure(args.orders, args.clients, args.workers, args.dealers, args.counted,
                    args.database, args.approvals)
    print(f"PostgreSQL {found['server']}; gunicorn {args.workers} workers, the intake's settings; "
          f"{args.clients} clients; {args.orders} orders per measure\n")
    placed, latencies = found["placed"]
    trivial, trivial_latencies = found["trivial"]
    print(f"{'orders placed and confirmed over HTTP':<44} {placed.per_second:>10,.1f} /s  "
          f"{latency_line(latencies)}")
    print(f"{'trivial Flask + marshmallow INSERT+COMMIT':<44} {trivial.per_second:>10,.1f} /s  "
          f"{latency_line(trivial_latencies)}")
    print(f"{'ratio':<44} {placed.per_second / trivial.per_second:>10.3f}")
    if "approved" in found:
        approved, approved_latencies = found["approved"]
        print(f"{'orders placed, approved (P3), read back':<44} {approved.per_second:>10,.1f} /s  "
              f"{latency_line(approved_latencies)}")
    print(f"{'SQL statements per order (PostgreSQL sent)':<44} {found['statements']:>10.1f}  "
          f"({found['round_trips']:.1f} syncs)")


if __name__ == "__main__":
    main()
