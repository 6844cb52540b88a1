"""Projection catch-up on PostgreSQL: events per second into all read models, next to the
library's own read-and-decode rate of the same stored events, in the same run; then the peak RSS of
a catch-up of a short and of a long backlog, each in a fresh process."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import Any

from eventsourcing.persistence import Mapper
from psycopg.sql import SQL, Identifier

from bench.common import (
    Rate,
    delivered_order,
    figure,
    peak_rss_mb,
    postgres_base_url,
    print_comparison,
    scratch_schema,
    server_version,
)
from domain.order import Order
from domain.values import Tier
from infra.persistence import parse_database_url
from infra.settings import Settings
from projections.live import BatchingProjectionRunner
from projections.model import TABLES
from projections.model.base import PREFIX
from projections.projection import BATCH, SOURCE, ChannelProjection, catch_up
from projections.views import PostgresChannelView
from services.application import ChannelLedger
from services.audit import scratch as scratch_area
from services.bootstrap import build_application
from services.runtime import postgres_view

ITEMS = [
    {"sku": "ROUTER", "name": "Edge router", "list_price": "1000.00", "floor_price": "600.00"},
    {"sku": "SWITCH", "name": "Access switch", "list_price": "250.00", "floor_price": "150.00"},
]
REGIONS = ["east", "north", "south", "west", "central"]
FIRST_DAY = date(2026, 4, 1)
SAVE_EVERY = 200  # orders per save: ~1,000 events in one transaction


def dealers(app: ChannelLedger, count: int) -> list[tuple[str, str, Tier]]:
    """`count` dealers with formal agreements, through the application (D1, D2)."""
    made = []
    for i in range(count):
        tier = "A" if i < 15 else ("AA" if i % 3 == 1 else "SI")  # within the D4 seats
        region = REGIONS[i % len(REGIONS)]
        dealer_id = str(
            app.register_dealer(f"bench-{i}", region, tier, f"sp-{i % 12}", "c", date(2026, 3, 2)).value.id
        )
        app.sign_draft_agreement(dealer_id, date(2026, 3, 3))
        app.submit_forecast(dealer_id, [("2026-04", "50000"), ("2026-05", "50000"), ("2026-06", "50000")])
        app.sign_formal_agreement(dealer_id, date(2026, 3, 4), "50000", 12)
        made.append((dealer_id, region, Tier(tier)))
    return made


def orders(
    app: ChannelLedger, events: int, parties: list[tuple[str, str, Tier]], *, first_day: date = FIRST_DAY,
    prefix: str = "b",
) -> None:
    """Orders placed, confirmed, paid, shipped and delivered (every tenth with a return) over the
    91 days from `first_day`, built as aggregates and saved many at a time, until the log holds
    `events` events."""
    version = app.price_list_on(first_day)
    assert version is not None
    bounds = app.policy.in_force(first_day).orders
    pending: list[Order] = []
    written = app.recorder.max_notification_id() or 0
    start = written
    i = 0
    while written < events - 10:
        dealer_id, region, tier = parties[i % len(parties)]
        day = first_day + timedelta(days=(i * 91) // max((events - start) // 5, 1) % 91)
        order = delivered_order(
            version, bounds, dealer_id=dealer_id, region=region, tier=tier, client_ref=f"{prefix}{i}",
            day=day, requested=[{"sku": "ROUTER", "qty": 1 + i % 4}, {"sku": "SWITCH", "qty": 2}],
            returned=[{"sku": "SWITCH", "qty": 1}] if i % 10 == 0 else None,
        )
        pending.append(order)
        written += len(order.pending_events)
        i += 1
        if len(pending) == SAVE_EVERY:
            app.save(*pending)
            pending = []
    if pending:
        app.save(*pending)


def close_quarter(app: ChannelLedger) -> list[tuple[str, float, int]]:
    """The closes of April, May and June: (month, seconds, events it sealed)."""
    timings = []
    for month, closed_on in (("2026-04", "2026-05-01"), ("2026-05", "2026-06-01"), ("2026-06", "2026-07-01")):
        start = time.perf_counter()
        calendar = app.close_period(month, date.fromisoformat(closed_on)).value
        close = calendar.closes[-1]
        sealed = int(str(close["covers_to"])) - int(str(close["covers_from"])) + 1
        timings.append((month, time.perf_counter() - start, sealed))
    return timings


def read_and_decode(app: ChannelLedger, batch: int) -> Rate:
    """The library alone: select the stored events in batches and decode each to a domain event
    (the write side's mapper, the library's own: the read side decodes with its own, faster)."""
    assert type(app.mapper) is Mapper, "the baseline is the library's mapper"
    start, count, last = time.perf_counter(), 0, 0
    while True:
        notifications = app.recorder.select_notifications(start=last + 1, limit=batch)
        if not notifications:
            break
        for n in notifications:
            app.mapper.to_domain_event(n)
        count += len(notifications)
        last = notifications[-1].id
    return Rate("library read + decode (events)", count, time.perf_counter() - start)


def reset(view: PostgresChannelView) -> None:
    """Empty the read model and its tracking, to project the same log again."""
    schema = view.datastore.schema
    with view.datastore.transaction(commit=True) as curs:
        curs.execute(
            SQL("DELETE FROM {} WHERE application_name = %s").format(
                Identifier(schema, view.tracking_table_name)), (SOURCE,)
        )
        for table in TABLES:
            curs.execute(SQL("TRUNCATE {}").format(Identifier(schema, PREFIX + table)))


def runner_rate(app: ChannelLedger, env: dict[str, str], view: PostgresChannelView, count: int) -> Rate:
    """The live feed (projections/live.py: the library's ProjectionRunner, several events per
    transaction) over the first `count` events of the log."""
    reset(view)
    target = app.recorder.select_notifications(start=1, limit=count)[-1].id
    start = time.perf_counter()
    with BatchingProjectionRunner(env=env) as runner:
        runner.wait(target, timeout=3600)
        seconds = time.perf_counter() - start
    return Rate("live ProjectionRunner (events)", count, seconds)


def child(kind: str, url: str, until: int, batch: int) -> dict[str, float]:
    """In a fresh process: a catch-up of positions 1..`until` into an empty read model (a scratch
    schema), or the library's raw read-and-decode of the same events; its peak RSS."""
    app = build_application(Settings().with_database(url), open_policy=False)
    try:
        start = time.perf_counter()
        if kind == "raw":
            assert type(app.mapper) is Mapper, "the baseline is the library's mapper"
            count = 0
            last = 0
            while last < until:
                notifications = app.recorder.select_notifications(start=last + 1, limit=batch, stop=until)
                if not notifications:
                    break
                for n in notifications:
                    app.mapper.to_domain_event(n)
                count += len(notifications)
                last = notifications[-1].id
        else:
            area = scratch_area.create(parse_database_url(url))
            try:
                count = catch_up(app, ChannelProjection(area.view), batch_size=batch, stop=until)
            finally:
                area.drop()
        seconds = time.perf_counter() - start
    finally:
        app.close()
    return {"events": count, "seconds": seconds, "rss_mb": peak_rss_mb()}


def run_child(kind: str, url: str, until: int, batch: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "projections", "--child", kind, "--database", url,
         "--events", str(until), "--batch", str(batch)],
        check=True, capture_output=True, text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def measure(events: int, dealers_count: int, batch: int, runner_events: int,
            database: str | None = None) -> dict[str, Rate]:
    """The catch-up's and the live runner's rates and the library's read+decode of the same log."""
    found: dict[str, Rate] = {}
    with postgres_base_url(database) as base, scratch_schema(base, "benchproj") as url:
        app = build_application(Settings().with_database(url))
        env = parse_database_url(url).eventsourcing_env()
        try:
            app.publish_price_list(date(2026, 3, 1), ITEMS)
            parties = dealers(app, dealers_count)
            orders(app, events, parties)
            stored = app.recorder.max_notification_id() or 0
            found["read_decode"] = read_and_decode(app, batch)
            view = postgres_view(env)
            start = time.perf_counter()
            applied = catch_up(app, ChannelProjection(view), batch_size=batch)
            found["catch_up"] = Rate(f"catch-up into all read models, {batch}/txn (events)",
                                     applied, time.perf_counter() - start)
            assert view.max_tracking_id(SOURCE) == stored
            if runner_events:
                found["live"] = runner_rate(app, env, view, min(runner_events, stored))
                # The library's read+decode again: the machine's pace may drift between the two.
                again = read_and_decode(app, batch)
                if again.per_second > found["read_decode"].per_second:
                    found["read_decode"] = again
            view.datastore.close()
        finally:
            app.close()
    return found


def figures(quick: bool = False, database: str | None = None) -> list[dict[str, Any]]:
    events, runner_events = (20_000, 5_000) if quick else (200_000, 50_000)
    found = measure(events, 200, BATCH, runner_events, database)
    base = found["read_decode"].per_second
    return [
        figure("projection_live", found["live"].per_second, "events/s", base, ">= 0.5"),
        figure("projection_catch_up", found["catch_up"].per_second, "events/s", base, ">= 0.6"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="events in the log")
    parser.add_argument("--dealers", type=int, default=200)
    parser.add_argument("--batch", type=int, default=BATCH, help="events per catch-up transaction")
    parser.add_argument(
        "--runner-events", type=int, default=50_000, help="events projected by the live runner (0: skip)"
    )
    parser.add_argument("--rss-small", type=int, default=25_000,
                        help="the short backlog whose catch-up's peak RSS is measured")
    parser.add_argument("--rss-large", type=int, default=250_000,
                        help="the long backlog (0: skip the RSS figures)")
    parser.add_argument("--database", help="a PostgreSQL base URL (default: as the tests find it)")
    parser.add_argument("--child", choices=("catch-up", "raw"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(child(args.child, args.database, args.events, args.batch)))
        return
    if not args.rss_large:
        found = measure(args.events, args.dealers, args.batch, args.runner_events, args.database)
        print_comparison(found["catch_up"], found["read_decode"], label="catch-up ÷ read+decode")
        if "live" in found:
            print()
            print_comparison(found["live"], found["read_decode"], label="live ÷ read+decode")
        return
    with postgres_base_url(args.database) as base, scratch_schema(base, "benchproj") as url:
        settings = Settings().with_database(url)
        app = build_application(settings)
        env = parse_database_url(url).eventsourcing_env()
        try:
            started = time.perf_counter()
            app.publish_price_list(date(2026, 3, 1), ITEMS)
            parties = dealers(app, args.dealers)
            orders(app, args.events, parties)
            written = time.perf_counter() - started
            closes = close_quarter(app)
            stored = app.recorder.max_notification_id() or 0
            print(
                f"PostgreSQL {server_version(url)}; {stored:,} stored events written in {written:.0f} s"
            )
            for month, seconds, sealed in closes:
                print(f"{'close of ' + month + ', ' + format(sealed, ',') + ' events sealed':<44} "
                      f"{seconds:>10.2f} s")
            print()

            baseline = read_and_decode(app, args.batch)
            view = postgres_view(env)
            projection = ChannelProjection(view)
            start = time.perf_counter()
            applied = catch_up(app, projection, batch_size=args.batch)
            figure = Rate(
                f"catch-up into all read models, {args.batch}/txn (events)",
                applied,
                time.perf_counter() - start,
            )
            assert view.max_tracking_id(SOURCE) == stored
            print_comparison(figure, baseline, label="catch-up ÷ read+decode")
            if args.runner_events:
                count = min(args.runner_events, stored)
                print()
                print_comparison(runner_rate(app, env, view, count), baseline, label="live ÷ read+decode")
            view.datastore.close()

            if args.rss_large:
                # A longer log for the memory figures: more orders, in the next quarter.
                orders(app, args.rss_large + 10, parties, first_day=date(2026, 7, 1), prefix="r")
                head = app.recorder.max_notification_id() or 0
                small = run_child("catch-up", url, min(args.rss_small, head), args.batch)
                large = run_child("catch-up", url, min(args.rss_large, head), args.batch)
                raw = run_child("raw", url, min(args.rss_large, head), args.batch)
                print()
                for label, result in ((f"catch-up of {small['events']:,.0f} events", small),
                                      (f"catch-up of {large['events']:,.0f} events", large),
                                      (f"raw read-and-decode of {raw['events']:,.0f}", raw)):
                    print(f"{'peak RSS, ' + label:<44} {result['rss_mb']:>10,.1f} MB")
                ratio_label = f"ratio RSS {large['events']:,.0f} ÷ {small['events']:,.0f}"
                print(f"{ratio_label:<44} {large['rss_mb'] / small['rss_mb']:>10.3f}")
        finally:
            app.close()


if __name__ == "__main__":
    main()
