"""Flat costs on PostgreSQL: a tier-A credit cycle after 1,000 cycles against the first ones, an
order against three 10,000-item price-list versions against one small version (pitfall 9), and an
order placed as the intake places it (the guarded save, its watch of the calendar, the leader's
live feed, the wait for the read side) on a log of 50,000 events against one of a few hundred."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench.bench_projections import dealers, orders
from bench.common import figure, postgres_base_url, scratch_schema
from domain.order import Order
from infra.settings import Settings
from services.application import ChannelLedger
from services.bootstrap import build_runtime
from services.commands.base import Done
from services.runtimes.base import Runtime
from tests.builders import POLICY, app_for_url, onboard, publish_prices, rated_dealer

CYCLE_DAY = date(2026, 4, 10)  # after the rating, inside the agreement's term
BIG_ITEMS = 10_000
BIG_VERSIONS = (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
ORDER_DAY = date(2026, 3, 20)
LONG_LOG = 50_000  # events in the longer log of `log_growth`
LOG_DEALERS = 12  # the dealers its orders are of (tier A among them: within the D4 seats)


def alternate(count: int, steps: list[Callable[[int], object]]) -> list[float]:
    """The median seconds of `count` runs of each step, run in turn (a, b, a, b, …): whatever
    else the machine does slows both alike, so their ratio holds."""
    seconds: list[list[float]] = [[] for _ in steps]
    for i in range(count):
        for step, times in zip(steps, seconds, strict=True):
            began = time.perf_counter()
            step(i)
            times.append(time.perf_counter() - began)
    return [statistics.median(times) for times in seconds]


def credit_cycles(url: str, cycles: int, sample: int) -> tuple[float, float]:
    """Seconds per credit cycle (a credit order placed and confirmed, shipped, delivered and paid)
    on a fresh credit line, and on a line after `cycles` cycles, in the same store, in turn."""
    app = app_for_url(url)
    try:
        publish_prices(app)
        old = rated_dealer(app, name="Old")
        made = 0

        def cycle(dealer_id: str) -> None:
            nonlocal made
            made += 1
            done = app.place_order(dealer_id, f"cycle-{made}", CYCLE_DAY, "east", "credit",
                                   [{"sku": "ROUTER", "qty": 1}])
            order = done.value
            app.ship_order(str(order.id), CYCLE_DAY)
            app.deliver_order(str(order.id), CYCLE_DAY)
            app.record_payment(str(order.id), CYCLE_DAY, order.total)

        for _ in range(cycles):
            cycle(old)
        fresh = rated_dealer(app, name="Fresh")
        cycle(fresh)  # the first load of what the cycle reads
        first, later = alternate(sample, [lambda _: cycle(fresh), lambda _: cycle(old)])
    finally:
        app.close()
    return first, later


def big_items(number: int) -> list[dict[str, Any]]:
    items = [{"sku": "ROUTER", "name": "Edge router", "list_price": "1000.00", "floor_price": "600.00"},
             {"sku": "SWITCH", "name": "Access switch", "list_price": "250.00", "floor_price": "150.00"}]
    items += [{"sku": f"SKU-{number}-{i:05d}", "name": f"part {i}", "list_price": "100.00",
               "floor_price": "50.00"} for i in range(BIG_ITEMS - len(items))]
    return items


def placing(app: ChannelLedger, prefix: str) -> Callable[[int], Done[Order]]:
    """A step placing and confirming an order of one active dealer."""
    dealer_id = onboard(app, "active")

    def place(i: int) -> Done[Order]:
        return app.place_order(dealer_id, f"{prefix}-{i}", ORDER_DAY, "east", "prepaid",
                               [{"sku": "ROUTER", "qty": 1}, {"sku": "SWITCH", "qty": 2}])

    place(-1)
    return place


def price_list_orders(base: str, sample: int) -> tuple[float, float]:
    """Seconds per order with one small price-list version, and with three versions of
    `BIG_ITEMS` items (each stored in parts, domain/price_list.py), each store in a schema of its
    own, placed in turn."""
    with scratch_schema(base, "benchgrowth") as small_url, \
            scratch_schema(base, "benchgrowth") as big_url:
        small_app, big_app = app_for_url(small_url), app_for_url(big_url)
        try:
            publish_prices(small_app, date(2026, 1, 1))
            for number, day in enumerate(BIG_VERSIONS):
                publish_prices(big_app, day, big_items(number))
            small, big = alternate(sample, [placing(small_app, "small"), placing(big_app, "big")])
        finally:
            small_app.close()
            big_app.close()
    return small, big


def synced_placing(runtime: Runtime, prefix: str) -> Callable[[int], object]:
    """A step placing and confirming an order of one active dealer as a request of the intake
    does: the command, then the wait until the read side has it."""
    place = placing(runtime.app, prefix)

    def synced(i: int) -> None:
        runtime.sync(place(i).position)

    return synced


def log_orders(base: str, events: int, sample: int) -> tuple[float, float]:
    """Seconds per order placed through the PostgreSQL runtime on a log of a few hundred events,
    and on one of `events` (orders of other dealers), each store in a schema of its own, its read
    model caught up first, placed in turn."""
    with scratch_schema(base, "benchgrowth") as short_url, \
            scratch_schema(base, "benchgrowth") as long_url:
        long_app = app_for_url(long_url)
        try:
            publish_prices(long_app)
            orders(long_app, events, dealers(long_app, LOG_DEALERS))
        finally:
            long_app.close()
        runtimes = [build_runtime(Settings().with_database(url), initial_policy=POLICY)
                    for url in (short_url, long_url)]
        try:
            publish_prices(runtimes[0].app)
            for runtime in runtimes:
                runtime.refresh()  # the read model caught up before the timing
            short, long = alternate(sample, [synced_placing(runtime, "log")
                                             for runtime in runtimes])
        finally:
            for runtime in runtimes:
                runtime.close()
    return short, long


def figures(quick: bool = False, database: str | None = None) -> list[dict[str, Any]]:
    cycles, sample = (100, 10) if quick else (1000, 30)
    with postgres_base_url(database) as base:
        with scratch_schema(base, "benchgrowth") as url:
            first, later = credit_cycles(url, cycles, sample)
        small, big = price_list_orders(base, sample)
        short, long = log_orders(base, LONG_LOG // 5 if quick else LONG_LOG, sample * 3)
    return [
        figure("credit_cycle_growth", later * 1000, "ms per cycle", first * 1000, "<= 1.3"),
        figure("price_list_growth", big * 1000, "ms per order", small * 1000, "<= 1.3"),
        figure("log_growth", long * 1000, "ms per order", short * 1000, "<= 1.3"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench growth", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 cycles, 10 samples")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL base URL (default: as the tests find one)")
    args = parser.parse_args()
    for row in figures(args.quick, args.database):
        print(f"{row['figure']:<24} {row['value']:>10.2f} {row['unit']:<14} "
              f"baseline {row['baseline']:>8.2f}  ratio {row['ratio']:.3f}  (goal {row['goal']})")


if __name__ == "__main__":
    main()
