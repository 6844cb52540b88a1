"""Write side on PostgreSQL: orders placed+confirmed, paid, shipped and delivered per second."""

from __future__ import annotations

import argparse
import os
from datetime import date
from decimal import Decimal
from functools import partial

from bench.common import (
    Rate,
    measure,
    postgres_base_url,
    print_comparison,
    raw_insert_commit,
    scratch_schema,
    server_version,
)
from domain.order import OrderStatus
from services.application import ChannelLedger
from tests.builders import app_for_url, onboard, publish_prices

# Orders are dated after the agreements' first three months, so that, as in steady trading, an
# order no longer adds to the dealer's C2 qualifying figures.
ORDER_DATE = date(2026, 5, 11)
LINES = [{"sku": "ROUTER", "qty": 2}, {"sku": "SWITCH", "qty": 3}]


def order_cycle(app: ChannelLedger, dealers: list[str], prefix: str, i: int) -> int:
    """One order through O3: placed and confirmed at tier price, paid (prepaid ships only when
    paid, O4), shipped, delivered. Returns the number of commands."""
    dealer_id = dealers[i % len(dealers)]
    placed = app.place_order(dealer_id, f"{prefix}-{i}", ORDER_DATE, "east", "prepaid", LINES)
    order = placed.value
    assert placed.created and order.status == OrderStatus.CONFIRMED
    order_id = str(order.id)
    app.record_payment(order_id, ORDER_DATE, order.total)
    app.ship_order(order_id, ORDER_DATE)
    done = app.deliver_order(order_id, ORDER_DATE)
    assert done.value.status == OrderStatus.PAID
    return 4


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench write", description=__doc__)
    parser.add_argument("--orders", type=int, default=400, help="orders measured (default 400)")
    parser.add_argument("--rows", type=int, default=1000,
                        help="raw insert+commit rows of the baseline (default 1000)")
    parser.add_argument("--dealers", type=int, default=10, help="dealers ordering (default 10)")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL base URL (default: as the tests find one)")
    args = parser.parse_args()

    with postgres_base_url(args.database) as base, scratch_schema(base) as url:
        app = app_for_url(url)
        try:
            publish_prices(app)
            dealers = [onboard(app, "active", tier="AA", name=f"bench-{i}")
                       for i in range(args.dealers)]
            measure("warm-up", 20, partial(order_cycle, app, dealers, "warm"))

            # The baseline is measured before and after the application, and the two halves
            # added up, so that drift of a noisy machine weighs on both figures alike.
            first = raw_insert_commit(url, args.rows // 2)
            start_position = app.recorder.max_notification_id() or 0
            orders = measure("orders placed, confirmed and delivered", args.orders,
                             partial(order_cycle, app, dealers, "bench"))
            events = (app.recorder.max_notification_id() or 0) - start_position
            second = raw_insert_commit(url, args.rows - args.rows // 2)
            baseline = Rate(first.name, first.count + second.count,
                            first.seconds + second.seconds)

            print(f"PostgreSQL {server_version(url)} at {base.split('@')[-1]}, "
                  f"{os.cpu_count()} cores, one thread, {args.dealers} dealers")
            print("each order: place (confirmed at tier price) + payment + ship + delivery, "
                  f"{Decimal(events) / args.orders:.1f} events per order\n")
            print_comparison(orders, baseline, label="ratio orders/s ÷ raw commits/s")
            commands = Rate("  commands (4 per order)", orders.count * 4, orders.seconds)
            stored = Rate("  events stored", events, orders.seconds)
            print(commands.line())
            print(stored.line())
            print(f"{'ratio commands/s ÷ raw commits/s':<44} "
                  f"{commands.per_second / baseline.per_second:>10.3f}")
        finally:
            app.close()


if __name__ == "__main__":
    main()
