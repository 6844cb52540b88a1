"""Audit replay on PostgreSQL: events/s rebuilding the read model vs raw read-and-decode; peak RSS."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import Any

import psycopg
from eventsourcing.persistence import Mapper
from psycopg.sql import Identifier

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
from domain.values import Tier
from infra.persistence import parse_database_url
from projections.projection import BATCH
from services.application import ChannelLedger
from services.audit import scratch as scratch_area
from services.audit.compare import compare_in, snapshot
from services.audit.replay import replay
from services.audit.timeline import batches
from tests.builders import app_for_url, onboard, publish_prices

EVENTS_TABLE = "channelledger_events"
SKUS = ("ROUTER", "SWITCH")
FIRST_DAY = date(2026, 2, 2)


# --- the history --------------------------------------------------------------------------------


def generate(url: str, events: int, dealers: int, seed: int = 7) -> int:
    """Dealers onboarded through the application, then orders through their life cycle (placed at
    tier price and confirmed, paid, shipped, delivered; one in ten partly returned), built with
    the domain's own aggregates and written with COPY, one stored event per row, in log order."""
    app = app_for_url(url)
    rng = random.Random(seed)
    try:
        publish_prices(app)
        ids = [onboard(app, "active", tier=("A", "AA", "SI")[i % 3], name=f"bench-{i}",
                       region=("east", "west", "north")[i % 3]) for i in range(dealers)]
        version = app.price_list_on(FIRST_DAY)
        assert version is not None
        tiers = {d: app.get_dealer(d).tier for d in ids}
        regions = {d: app.get_dealer(d).region for d in ids}
        written = app.recorder.max_notification_id() or 0
        database = parse_database_url(url)
        with psycopg.connect(database.conninfo()) as conn, conn.cursor() as cur:
            table = Identifier(database.schema, EVENTS_TABLE).as_string(None)
            n = 0
            while written < events:
                rows: list[tuple[Any, ...]] = []
                while len(rows) < 5000 and written + len(rows) < events:
                    rows += _order_events(app, rng, ids, tiers, regions, version, n)
                    n += 1
                rows = rows[: events - written]
                with cur.copy(f"COPY {table} (originator_id, originator_version, topic, state) "
                              "FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                conn.commit()
                if written // 100_000 != (written + len(rows)) // 100_000:
                    print(f"  generated {written + len(rows):,} events", file=sys.stderr)
                written += len(rows)
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def _order_events(app: ChannelLedger, rng: random.Random, ids: list[str], tiers: dict[str, Tier],
                  regions: dict[str, str], version: Any, n: int) -> list[tuple[Any, ...]]:
    dealer_id = rng.choice(ids)
    on = FIRST_DAY + timedelta(days=rng.randrange(300))
    sku = rng.choice(SKUS)
    order = delivered_order(
        version, app.policy.in_force(on).orders, dealer_id=dealer_id, region=regions[dealer_id],
        tier=tiers[dealer_id], client_ref=f"bulk-{n}", day=on,
        requested=[{"sku": sku, "qty": rng.randint(1, 20)}],
        returned=[{"sku": sku, "qty": 1}] if n % 10 == 0 else None,
    )
    return [
        (s.originator_id, s.originator_version, s.topic, s.state)
        for s in map(app.mapper.to_stored_event, order.collect_events())
    ]


# --- the measurements (each in a fresh process, so that its peak RSS is its own) -----------------


def child_raw(url: str, until: int, batch: int) -> dict[str, Any]:
    """The library's raw rate: select_notifications and decode each into its domain event (the
    write side's mapper, the library's own: the replay decodes with the read side's)."""
    app = app_for_url(url)
    assert type(app.mapper) is Mapper, "the baseline is the library's mapper"
    try:
        start = time.perf_counter()
        count = 0
        for notifications in batches(app.recorder, 1, until, batch):
            for n in notifications:
                app.mapper.to_domain_event(n)
            count += len(notifications)
        seconds = time.perf_counter() - start
    finally:
        app.close()
    return {"events": count, "seconds": seconds, "rss_mb": peak_rss_mb()}


def child_replay(url: str, until: int, batch: int) -> dict[str, Any]:
    """What `channel audit replay` does: rebuild every table in a scratch schema, then compare
    (here the rebuilt tables with themselves: the same scans and set operations, no difference)."""
    app = app_for_url(url)
    area = scratch_area.create(parse_database_url(url))
    try:
        start = time.perf_counter()
        count = replay(app, area.view, until, batch_size=batch)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        with snapshot(area.database, scratch_area.tracking_table(area.view), area) as snap:
            comparison = compare_in(snap, until)
        compared = time.perf_counter() - start
        assert comparison.equal
        rows = sum(t.live_rows for t in comparison.tables)
    finally:
        area.drop()
        app.close()
    return {"events": count, "seconds": seconds, "compare_seconds": compared, "rows": rows,
            "rss_mb": peak_rss_mb()}


def run_child(kind: str, url: str, until: int, batch: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "replay", "--child", kind, "--database", url,
         "--events", str(until), "--batch-size", str(batch)],
        check=True, capture_output=True, text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def figures(quick: bool = False, database: str | None = None) -> list[dict[str, Any]]:
    """Replay into a scratch schema against the library's read+decode of the same log."""
    events = 50_000 if quick else 500_000
    with postgres_base_url(database) as base, scratch_schema(base) as url:
        head = generate(url, events, 60)
        raw = run_child("raw", url, head, BATCH)
        full = run_child("replay", url, head, BATCH)
    return [figure("replay", full["events"] / full["seconds"], "events/s",
                   raw["events"] / raw["seconds"], ">= 0.6")]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench replay", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="log length (default 1e6)")
    parser.add_argument("--small", type=int, default=100_000,
                        help="the shorter replay whose peak RSS is compared (default 1e5)")
    parser.add_argument("--dealers", type=int, default=60, help="dealers (default 60)")
    parser.add_argument("--batch-size", type=int, default=BATCH, help="events per transaction")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL base URL (default: as the tests find one)")
    parser.add_argument("--child", choices=("raw", "replay"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        fn = child_raw if args.child == "raw" else child_replay
        print(json.dumps(fn(args.database, args.events, args.batch_size)))
        return

    with postgres_base_url(args.database) as base, scratch_schema(base) as url:
        started = time.perf_counter()
        head = generate(url, args.events, args.dealers)
        print(f"PostgreSQL {server_version(url)} at {base.split('@')[-1]}, {os.cpu_count()} cores; "
              f"{head:,} events generated in {time.perf_counter() - started:.0f} s "
              f"({args.dealers} dealers, orders of 5-6 events)\n")
        raw = run_child("raw", url, head, args.batch_size)
        small = run_child("replay", url, min(args.small, head), args.batch_size)
        full = run_child("replay", url, head, args.batch_size)

    replayed = Rate(f"replay into a scratch schema ({full['events']:,} events)", full["events"],
                    full["seconds"])
    baseline = Rate("raw select_notifications + decode (library)", raw["events"], raw["seconds"])
    print_comparison(replayed, baseline, label="ratio replay ÷ raw read-and-decode")
    print(f"{'compare, ' + format(full['rows'], ',') + ' read-model rows':<44} "
          f"{full['compare_seconds']:>10.2f} s")
    print(f"\n{'peak RSS, replay of ' + format(small['events'], ',') + ' events':<44} "
          f"{small['rss_mb']:>10,.1f} MB")
    print(f"{'peak RSS, replay of ' + format(full['events'], ',') + ' events':<44} "
          f"{full['rss_mb']:>10,.1f} MB")
    print(f"{'peak RSS, raw read-and-decode of all':<44} {raw['rss_mb']:>10,.1f} MB")
    print(f"{'ratio RSS ' + format(full['events'], ',') + ' ÷ ' + format(small['events'], ','):<44} "
          f"{full['rss_mb'] / small['rss_mb']:>10.3f}")
