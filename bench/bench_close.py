"""Month close on PostgreSQL, end to end (the command, its slips and allocations, projected): time
per 1,000 delivered orders at 1,000, 10,000 and 50,000 orders in the month, next to the library's
raw read-and-decode of the same month's events, in the same run; the best of a few runs each."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench.bench_projections import ITEMS, dealers
from bench.common import delivered_order, figure, postgres_base_url, scratch_schema, server_version
from domain.order import Order
from domain.values import Tier
from infra.persistence import parse_database_url
from infra.settings import Settings
from projections.projection import ChannelProjection, catch_up
from projections.queries import Reports
from services.application import ChannelLedger
from services.bootstrap import build_application
from services.process_managers import PeriodCloseManager
from services.runtime import postgres_view

MONTH = "2026-04"
FIRST_DAY = date(2026, 4, 1)
ORDERS_PER_SAVE = 200


@dataclass(frozen=True)
class Result:
    orders: int
    events: int  # events the close sealed
    slips: int
    command: float  # seconds: the close command alone (seal and MonthClosed)
    close: float  # seconds: command, projection, slips, allocations, projection
    raw: float  # seconds: the library reading and decoding the month's events

    def per_thousand(self, seconds: float) -> float:
        return seconds / (self.orders / 1000)


def month_of_orders(app: ChannelLedger, count: int, parties: list[tuple[str, str, Tier]]) -> None:
    """`count` prepaid orders of the dealers in turn, placed at tier price, paid, shipped and
    delivered in April (one in ten partly returned), saved many at a time."""
    version = app.price_list_on(FIRST_DAY)
    assert version is not None
    bounds = app.policy.in_force(FIRST_DAY).orders
    pending: list[Order] = []
    for i in range(count):
        dealer_id, region, tier = parties[i % len(parties)]
        day = FIRST_DAY + timedelta(days=i % 30)
        pending.append(delivered_order(
            version, bounds, dealer_id=dealer_id, region=region, tier=tier, client_ref=f"apr-{i}",
            day=day, requested=[{"sku": "ROUTER", "qty": 1 + i % 4}, {"sku": "SWITCH", "qty": 2}],
            returned=[{"sku": "SWITCH", "qty": 1}] if i % 10 == 0 else None,
        ))
        if len(pending) == ORDERS_PER_SAVE:
            app.save(*pending)
            pending = []
    if pending:
        app.save(*pending)


def raw_read(app: ChannelLedger, first: int, last: int, batch: int) -> float:
    """Seconds for the library to select and decode positions first..last."""
    start = time.perf_counter()
    at = first
    while at <= last:
        notifications = app.recorder.select_notifications(start=at, limit=batch, stop=last)
        if not notifications:
            break
        for n in notifications:
            app.mapper.to_domain_event(n)
        at = notifications[-1].id + 1
    return time.perf_counter() - start


def one_month(base: str, orders: int, dealer_count: int, batch: int) -> Result:
    with scratch_schema(base, "benchclose") as url:
        app = build_application(Settings().with_database(url))
        view = postgres_view(parse_database_url(url).eventsourcing_env())
        try:
            app.publish_price_list(date(2026, 3, 1), ITEMS)
            parties = dealers(app, dealer_count)
            app.authorize_repair_centre(parties[0][0], date(2026, 3, 5))  # tier A, east (S1)
            first = (app.recorder.max_notification_id() or 0) + 1
            month_of_orders(app, orders, parties)
            last = app.recorder.max_notification_id() or 0
            projection = ChannelProjection(view)
            managers = PeriodCloseManager(app, view, Reports(view))
            catch_up(app, projection, batch_size=batch)  # the read model follows the log
            raw = raw_read(app, first, last, batch)

            start = time.perf_counter()
            done = app.close_period(MONTH, date(2026, 5, 1))
            command = time.perf_counter() - start
            # What a sync after the close does: project it, run its follow-up, project that.
            catch_up(app, projection, batch_size=batch)
            managers.run_pending()
            catch_up(app, projection, batch_size=batch)
            close = time.perf_counter() - start

            assert managers.pending() == [] and done.position is not None
            slips = len(Reports(view).slips(period=MONTH))
            assert slips == dealer_count
            covered = done.value.closes[-1]
            sealed = int(str(covered["covers_to"])) - int(str(covered["covers_from"])) + 1
        finally:
            view.datastore.close()
            app.close()
    return Result(orders, sealed, slips, command, close, raw)


def figures(quick: bool = False, database: str | None = None) -> list[dict[str, Any]]:
    """The close's seconds per 1,000 delivered orders, the largest month against the smallest."""
    sizes, repeat = ((500, 5000), 1) if quick else ((1000, 10000, 50000), 2)
    with postgres_base_url(database) as base:
        results = [min((one_month(base, size, 100, 500) for _ in range(repeat)), key=lambda r: r.close)
                   for size in sizes]
    small, large = results[0], results[-1]
    return [figure("close_per_1000_orders_growth", large.per_thousand(large.close),
                   f"s per 1,000 orders ({large.orders:,})", small.per_thousand(small.close),
                   "<= 1.3")]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench close", description=__doc__)
    parser.add_argument("--orders", default="1000,10000,50000",
                        help="delivered orders in the month, comma-separated (default 1000,10000,50000)")
    parser.add_argument("--dealers", type=int, default=100, help="dealers, each issued a slip")
    parser.add_argument("--batch", type=int, default=500, help="events per catch-up transaction")
    parser.add_argument("--repeat", type=int, default=3,
                        help="months closed per size, each in a fresh schema; the fastest is shown")
    parser.add_argument("--database", help="a PostgreSQL base URL (default: as the tests find it)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.orders.split(",")]

    with postgres_base_url(args.database) as base:
        results = []
        for size in sizes:
            # Other work on the machine only ever slows a run down: the fastest is the figure.
            runs = [one_month(base, size, args.dealers, args.batch) for _ in range(args.repeat)]
            results.append(min(runs, key=lambda r: r.close))
            print(f"  {size:,} orders: close {', '.join(f'{r.close:.2f}' for r in runs)} s",
                  flush=True)
        with scratch_schema(base, "benchclose") as url:
            version = server_version(url)

    print(f"\nPostgreSQL {version}; {args.dealers} dealers, one slip each; best of {args.repeat}; "
          "per 1,000 delivered orders:\n")
    print(f"{'orders':>8} {'events sealed':>14} {'command s':>10} {'close s':>9} "
          f"{'close /1000':>12} {'raw /1000':>10} {'close ÷ raw':>12}")
    for r in results:
        print(f"{r.orders:>8,} {r.events:>14,} {r.command:>10.2f} {r.close:>9.2f} "
              f"{r.per_thousand(r.close):>12.3f} {r.per_thousand(r.raw):>10.3f} "
              f"{r.close / r.raw:>12.1f}")
    per = [r.per_thousand(r.close) for r in results]
    print(f"\n{'growth per 1,000 orders, largest ÷ smallest month':<52} {per[-1] / per[0]:>8.3f}")
    if len(per) > 2:
        print(f"{'growth per 1,000 orders, largest ÷ second-largest':<52} {per[-1] / per[-2]:>8.3f}")
    print(f"{'spread per 1,000 orders, highest ÷ lowest':<52} {max(per) / min(per):>8.3f}")


if __name__ == "__main__":
    main()
