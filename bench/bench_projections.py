"""Projection catch-up on PostgreSQL: events per second into all read models, next to the
library's own read-and-decode rate of the same stored events, in the same run."""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from decimal import Decimal

from eventsourcing.projection import ProjectionRunner

from bench.common import Rate, postgres_base_url, print_comparison, scratch_schema, server_version
from domain.order import Order, price_lines
from domain.values import Tier
from infra.persistence import parse_database_url
from infra.settings import Settings
from projections.projection import SOURCE, ChannelProjection, LogReader, catch_up
from projections.schema import TABLES
from projections.sql import PREFIX
from projections.views import PostgresChannelView
from services.application import ChannelLedger
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


def orders(app: ChannelLedger, events: int, parties: list[tuple[str, str, Tier]]) -> None:
    """Orders placed, confirmed, paid, shipped and delivered (every tenth with a return), built
    as aggregates and saved many at a time, until the log holds `events` events; then the
    closes of April, May and June."""
    version = app.price_list_on(FIRST_DAY)
    assert version is not None
    pending: list[Order] = []
    written = app.recorder.max_notification_id() or 0
    i = 0
    while written < events - 10:
        dealer_id, region, tier = parties[i % len(parties)]
        day = FIRST_DAY + timedelta(days=(i * 91) // max(events // 5, 1) % 91)
        lines, _ = price_lines(
            [{"sku": "ROUTER", "qty": 1 + i % 4}, {"sku": "SWITCH", "qty": 2}], version, tier
        )
        order = Order(
            dealer_id=dealer_id,
            client_ref=f"b{i}",
            order_date=day,
            ship_to_region=region,
            payment="prepaid",
            tier=tier.value,
            lines=lines,
            total=sum((x["amount"] for x in lines), Decimal("0.00")),
            price_list_version=version.number,
            approvals=[],
        )
        order.confirm(day)
        order.pay(day, order.total)
        order.ship(day)
        order.deliver(day)
        if i % 10 == 0:
            order.return_lines(day, [{"sku": "SWITCH", "qty": 1}])
        pending.append(order)
        written += len(order.pending_events)
        i += 1
        if len(pending) == SAVE_EVERY:
            app.save(*pending)
            pending = []
    if pending:
        app.save(*pending)
    for month, closed_on in (("2026-04", "2026-05-01"), ("2026-05", "2026-06-01"), ("2026-06", "2026-07-01")):
        app.close_period(month, date.fromisoformat(closed_on))


def read_and_decode(app: ChannelLedger, batch: int) -> Rate:
    """The library alone: select the stored events in batches and decode each to a domain event."""
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
            f'DELETE FROM "{schema}"."{view.tracking_table_name}" WHERE application_name = %s', (SOURCE,)
        )
        for table in TABLES:
            curs.execute(f'TRUNCATE "{schema}"."{PREFIX}{table}"')


def runner_rate(app: ChannelLedger, env: dict[str, str], view: PostgresChannelView, count: int) -> Rate:
    """The library's ProjectionRunner (one event, one transaction) over the first `count`
    events of the log."""
    reset(view)
    target = app.recorder.select_notifications(start=1, limit=count)[-1].id
    start = time.perf_counter()
    with ProjectionRunner(
        application_class=LogReader,
        projection_class=ChannelProjection,
        view_class=PostgresChannelView,
        env=env,
    ) as runner:
        runner.wait(target, timeout=3600)
        seconds = time.perf_counter() - start
    return Rate("ProjectionRunner, event by event (events)", count, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="events in the log")
    parser.add_argument("--dealers", type=int, default=200)
    parser.add_argument("--batch", type=int, default=500, help="events per catch-up transaction")
    parser.add_argument(
        "--runner-events", type=int, default=20_000, help="events projected by the ProjectionRunner (0: skip)"
    )
    parser.add_argument("--database", help="a PostgreSQL base URL (default: as the tests find it)")
    args = parser.parse_args()

    with postgres_base_url(args.database) as base, scratch_schema(base, "benchproj") as url:
        settings = Settings().with_database(url)
        app = build_application(settings)
        env = parse_database_url(url).eventsourcing_env()
        try:
            started = time.perf_counter()
            app.publish_price_list(date(2026, 3, 1), ITEMS)
            orders(app, args.events, dealers(app, args.dealers))
            stored = app.recorder.max_notification_id() or 0
            print(
                f"PostgreSQL {server_version(url)}; {stored:,} stored events written in "
                f"{time.perf_counter() - started:.0f} s\n"
            )

            baseline = read_and_decode(app, args.batch)
            view = postgres_view(env)
            projection = ChannelProjection(view)
            start = time.perf_counter()
            applied = catch_up(app, projection, batch_size=args.batch)
            figure = Rate(
                f"catch-up into all read models, {args.batch}/txn (events)",
                len(applied),
                time.perf_counter() - start,
            )
            assert view.max_tracking_id(SOURCE) == stored
            print_comparison(figure, baseline, label="catch-up ÷ read+decode")
            if args.runner_events:
                count = min(args.runner_events, stored)
                print()
                print_comparison(runner_rate(app, env, view, count), baseline, label="runner ÷ read+decode")
            view.datastore.close()
        finally:
            app.close()


if __name__ == "__main__":
    main()
