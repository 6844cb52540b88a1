"""Shared benchmark helpers: finding a PostgreSQL server as the tests do, scratch schemas, the raw
psycopg single-row insert+commit baseline, and printing a figure next to its baseline."""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.order import Order, order_total, price_lines
from domain.policy import OrderBounds
from domain.price_list import PriceListVersion
from domain.values import Tier
from tests.support.postgres import (
    PostgresUnavailable,
    connect,
    find_postgres_server,
    isolated_schema,
    probe,
)

BENCH_URL = "CHANNEL_BENCH_DATABASE_URL"
# A stored event of this application is a few hundred bytes of JSON: the baseline row is alike.
PAYLOAD = b"x" * 400


@dataclass(frozen=True)
class Rate:
    """`count` operations in `seconds`."""

    name: str
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("inf")

    def line(self, unit: str = "/s") -> str:
        return f"{self.name:<44} {self.per_second:>10,.1f} {unit}  ({self.count} in {self.seconds:.2f} s)"


def measure(name: str, count: int, step: Callable[[int], object]) -> Rate:
    """Time `step(0) … step(count-1)` run back to back."""
    start = time.perf_counter()
    for i in range(count):
        step(i)
    return Rate(name, count, time.perf_counter() - start)


@contextlib.contextmanager
def postgres_base_url(url: str | None = None) -> Iterator[str]:
    """A PostgreSQL server's base URL: `url`, else CHANNEL_BENCH_DATABASE_URL, else what the
    tests use (CHANNEL_TEST_DATABASE_URL, the local server on 127.0.0.1:5432, or a throwaway
    server started from the PostgreSQL binaries, stopped on exit)."""
    given = url or os.environ.get(BENCH_URL)
    if given:
        error = probe(given, timeout=5)
        if error is not None:
            raise PostgresUnavailable(f"{given} does not answer: {error}")
        yield given
        return
    server = find_postgres_server()
    try:
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def scratch_schema(base_url: str, prefix: str = "bench") -> Iterator[str]:
    """`base_url?schema=S` for a fresh schema, dropped afterwards."""
    with isolated_schema(base_url, prefix) as url:
        yield url


def raw_insert_commit(schema_url: str, count: int) -> Rate:
    """The floor under any durable write: one row inserted and committed per transaction with
    psycopg on one connection (the same server, the same schema, the same run)."""
    with connect(schema_url, autocommit=False) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_rows ("
            " id bigserial PRIMARY KEY, topic text NOT NULL, state bytea NOT NULL)"
        )
        conn.commit()

        def insert(i: int) -> None:
            conn.execute(
                "INSERT INTO bench_raw_rows (topic, state) VALUES (%s, %s)", (f"row-{i}", PAYLOAD)
            )
            conn.commit()

        rate = measure("raw PostgreSQL insert+commit (rows)", count, insert)
        conn.execute("DROP TABLE bench_raw_rows")
        conn.commit()
    return rate


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB. Linux's VmHWM belongs to the
    process's own address space; `ru_maxrss` would carry over the RSS of the parent that forked a
    benchmark's child, which hides the child's own figure under a bigger parent's."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_version(schema_url: str) -> str:
    with connect(schema_url, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def print_comparison(figure: Rate, baseline: Rate, *, label: str = "ratio") -> None:
    """The figure, the baseline and figure ÷ baseline."""
    print(figure.line())
    print(baseline.line())
    print(f"{label:<44} {figure.per_second / baseline.per_second:>10.3f}")


__all__ = [
    "PostgresUnavailable",
    "Rate",
    "figure",
    "measure",
    "peak_rss_mb",
    "postgres_base_url",
    "print_comparison",
    "raw_insert_commit",
    "scratch_schema",
    "server_version",
]


def delivered_order(
    version: PriceListVersion,
    bounds: OrderBounds,
    *,
    dealer_id: str,
    region: str,
    tier: Tier,
    client_ref: str,
    day: date,
    requested: list[dict[str, Any]],
    returned: list[dict[str, Any]] | None = None,
) -> Order:
    """An order placed at tier prices, confirmed, paid, shipped and delivered on `day` (and partly
    returned), built as an aggregate: benchmarks save many at a time to make a history fast."""
    lines, _ = price_lines(requested, version, tier, bounds)
    order = Order(dealer_id=dealer_id, client_ref=client_ref, order_date=day, ship_to_region=region,
                  payment="prepaid", tier=tier.value, lines=lines,
                  total=order_total(lines),
                  price_list_version=version.number, approvals=[])
    order.confirm(day)
    order.pay(day, order.total)
    order.ship(day)
    order.deliver(day)
    if returned:
        order.return_lines(day, returned, bounds.max_lines)
    return order


def figure(name: str, value: float, unit: str, baseline: float, goal: str,
           ratio: float | None = None) -> dict[str, Any]:
    """One row of `make bench`'s summary (bench/summary.py): a figure, its baseline measured in
    the same run, value ÷ baseline (unless given) and the goal the ratio is held to (">= 0.6",
    "<= 1.3")."""
    if ratio is None:
        ratio = value / baseline if baseline else float("inf")
    return {"figure": name, "value": round(value, 3), "unit": unit, "baseline": round(baseline, 3),
            "ratio": round(ratio, 3), "goal": goal}
