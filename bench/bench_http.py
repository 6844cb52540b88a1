"""HTTP intake on gunicorn + PostgreSQL: concurrent clients placing and confirming orders."""

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

from bench.common import (
    Rate,
    postgres_base_url,
    print_comparison,
    raw_insert_commit,
    scratch_schema,
    server_version,
)
from tests.e2e.server import Client, gunicorn

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


def report(name: str, rate: Rate, latencies: list[float], baseline: Rate) -> None:
    figure = Rate(name, rate.count, rate.seconds)
    print_comparison(figure, baseline)
    print(f"{'  request latency p50 / p99 / mean (ms)':<44} "
          f"{percentile(latencies, 0.50) * 1000:>10.1f} / {percentile(latencies, 0.99) * 1000:.1f}"
          f" / {statistics.fmean(latencies) * 1000:.1f}  ({len(latencies)} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench http", description=__doc__)
    parser.add_argument("--orders", type=int, default=600, help="orders per measure (default 600)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--dealers", type=int, default=20, help="dealers ordering (default 20)")
    parser.add_argument("--rows", type=int, default=2000,
                        help="raw insert+commit rows of the baseline (default 2000)")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL base URL (default: as the tests find one)")
    args = parser.parse_args()

    with postgres_base_url(args.database) as base, scratch_schema(base) as url, \
            tempfile.TemporaryDirectory(prefix="bench-http-") as scratch:
        print(f"PostgreSQL {server_version(url)}; gunicorn {args.workers} sync workers; "
              f"{args.clients} clients; {args.orders} orders per measure")
        with gunicorn(url, Path(scratch), workers=args.workers).start() as server:
            api = Client(server.url, server.keys)
            dealers = seed(api, args.dealers)

            def place(client: Client, i: int, latencies: list[float]) -> None:
                body = {"dealer_id": dealers[i % len(dealers)], "client_ref": f"auto-{i}",
                        "order_date": ORDER_DATE, "ship_to_region": "east",
                        "payment": "prepaid", "lines": AT_TIER}
                order = timed(client, latencies, "POST", "/orders", 201, role="sales", json=body)
                assert order["status"] == "confirmed"

            def place_and_approve(client: Client, i: int, latencies: list[float]) -> None:
                body = {"dealer_id": dealers[i % len(dealers)], "client_ref": f"approved-{i}",
                        "order_date": ORDER_DATE, "ship_to_region": "east",
                        "payment": "prepaid", "lines": BELOW_TIER}
                order = timed(client, latencies, "POST", "/orders", 201, role="sales", json=body)
                assert order["status"] == "awaiting_approval"
                decided = timed(client, latencies, "POST", f"/orders/{order['id']}/approval",
                                200, role="manager", json={"approve": True, "note": "bench"})
                assert decided["status"] == "confirmed"

            try:
                place(api, -1, [])  # warm every layer before measuring
                placed, placed_latency = run_clients(api, args.clients, args.orders, place)
                approved, approved_latency = run_clients(
                    api, args.clients, args.orders, place_and_approve
                )
            except Exception:
                print("the server's log ends with:\n" + "\n".join(server.log().splitlines()[-30:]))
                raise
        baseline = raw_insert_commit(url, args.rows)
    print()
    report("orders placed and confirmed over HTTP", placed, placed_latency, baseline)
    print()
    report("orders placed, then approved (P3) over HTTP", approved, approved_latency, baseline)


if __name__ == "__main__":
    main()
