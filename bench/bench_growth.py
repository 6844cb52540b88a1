"""Flat costs on PostgreSQL: a tier-A credit cycle after 1,000 cycles against the first ones, and an
order against three 10,000-item price-list versions against one small version (pitfall 9)."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench.common import figure, postgres_base_url, scratch_schema
from services.application import ChannelLedger
from tests.builders import app_for_url, onboard, publish_prices, rated_dealer

CYCLE_DAY = date(2026, 4, 10)  # after the rating, inside the agreement's term
BIG_ITEMS = 10_000
BIG_VERSIONS = (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
ORDER_DAY = date(2026, 3, 20)


def timed(count: int, step: Callable[[int], object]) -> float:
    """The median seconds of `count` runs of `step(i)`: other work on the machine only ever slows
    a step down, the median ignores the few it hit."""
    seconds = []
    for i in range(count):
        began = time.perf_counter()
        step(i)
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds)


def credit_cycles(url: str, cycles: int, sample: int) -> tuple[float, float]:
    """Seconds per credit cycle (a credit order placed and confirmed, shipped, delivered and paid)
    on a fresh credit line, and after `cycles` more cycles of the same line."""
    app = app_for_url(url)
    try:
        publish_prices(app)
        dealer_id = rated_dealer(app)
        made = 0

        def cycle(_: int) -> None:
            nonlocal made
            made += 1
            done = app.place_order(dealer_id, f"cycle-{made}", CYCLE_DAY, "east", "credit",
                                   [{"sku": "ROUTER", "qty": 1}])
            order = done.value
            app.ship_order(str(order.id), CYCLE_DAY)
            app.deliver_order(str(order.id), CYCLE_DAY)
            app.record_payment(str(order.id), CYCLE_DAY, order.total)

        cycle(0)  # the first load of every aggregate the cycle reads
        first = timed(sample, cycle)
        for i in range(cycles):
            cycle(i)
        later = timed(sample, cycle)
    finally:
        app.close()
    return first, later


def big_items(number: int) -> list[dict[str, Any]]:
    items = [{"sku": "ROUTER", "name": "Edge router", "list_price": "1000.00", "floor_price": "600.00"},
             {"sku": "SWITCH", "name": "Access switch", "list_price": "250.00", "floor_price": "150.00"}]
    items += [{"sku": f"SKU-{number}-{i:05d}", "name": f"part {i}", "list_price": "100.00",
               "floor_price": "50.00"} for i in range(BIG_ITEMS - len(items))]
    return items


def order_seconds(app: ChannelLedger, sample: int) -> float:
    """Seconds per order placed and confirmed by one active dealer."""
    dealer_id = onboard(app, "active")

    def place(i: int) -> None:
        app.place_order(dealer_id, f"growth-{i}", ORDER_DAY, "east", "prepaid",
                        [{"sku": "ROUTER", "qty": 1}, {"sku": "SWITCH", "qty": 2}])

    place(-1)
    return timed(sample, place)


def price_list_orders(base: str, sample: int) -> tuple[float, float]:
    """Seconds per order with one small price-list version, and with three versions of
    `BIG_ITEMS` items (each stored in parts, domain/price_list.py), each in a fresh schema."""
    with scratch_schema(base, "benchgrowth") as url:
        app = app_for_url(url)
        try:
            publish_prices(app, date(2026, 1, 1))
            small = order_seconds(app, sample)
        finally:
            app.close()
    with scratch_schema(base, "benchgrowth") as url:
        app = app_for_url(url)
        try:
            for number, day in enumerate(BIG_VERSIONS):
                publish_prices(app, day, big_items(number))
            big = order_seconds(app, sample)
        finally:
            app.close()
    return small, big


def figures(quick: bool = False, database: str | None = None) -> list[dict[str, Any]]:
    cycles, sample = (100, 10) if quick else (1000, 30)
    with postgres_base_url(database) as base:
        with scratch_schema(base, "benchgrowth") as url:
            first, later = credit_cycles(url, cycles, sample)
        small, big = price_list_orders(base, sample)
    return [
        figure("credit_cycle_growth", later * 1000, "ms per cycle", first * 1000, "<= 1.3"),
        figure("price_list_growth", big * 1000, "ms per order", small * 1000, "<= 1.3"),
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
