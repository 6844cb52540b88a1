"""Import on PostgreSQL: `channel import orders` of a CSV file (default 100,000 rows, two lines per
order) against the same orders placed by calling the application's command directly (the intake
without HTTP), in the same schema and run; both counted in order lines (rows) per second."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import Rate, figure, postgres_base_url, scratch_schema, server_version
from services.application import ChannelLedger
from services.cli import main as channel
from tests.builders import app_for_url, onboard, publish_prices

ORDER_DATE = date(2026, 5, 11)  # after the agreements' first months, as in steady trading
LINES = [("ROUTER", 2), ("SWITCH", 3)]  # two rows per order
HEADER = "dealer_id,client_ref,order_date,ship_to_region,payment,sku,qty\n"


def write_orders(path: Path, dealers: list[str], rows: int, prefix: str) -> int:
    """`rows` rows (two per order) of orders spread over the dealers; returns the orders."""
    orders = rows // len(LINES)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(orders):
            dealer = dealers[i % len(dealers)]
            for sku, qty in LINES:
                out.write(f"{dealer},{prefix}-{i},{ORDER_DATE},east,prepaid,{sku},{qty}\n")
    return orders


def direct(app: ChannelLedger, dealers: list[str], orders: int, prefix: str) -> Rate:
    """The same orders placed by the command itself, one after the other."""
    lines = [{"sku": sku, "qty": qty} for sku, qty in LINES]
    start = time.perf_counter()
    for i in range(orders):
        done = app.place_order(dealers[i % len(dealers)], f"{prefix}-{i}", ORDER_DATE, "east",
                               "prepaid", lines)
        assert done.created
    return Rate("orders placed by the command (rows)", orders * len(LINES),
                time.perf_counter() - start)


def imported(url: str, path: Path, rows: int) -> Rate:
    """`channel import orders FILE` as a user runs it (its progress: one line, not a terminal)."""
    quiet = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        status = channel(["import", "orders", str(path), "--database", url])
    seconds = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"channel import answered {status}: {quiet.getvalue()[-500:]}")
    return Rate("channel import orders (rows)", rows, seconds)


def measure(rows: int, direct_orders: int, dealers: int, database: str | None) -> dict[str, Any]:
    with postgres_base_url(database) as base, scratch_schema(base, "benchimport") as url, \
            tempfile.TemporaryDirectory() as tmp:
        app = app_for_url(url)
        try:
            publish_prices(app)
            ids = [onboard(app, "active", tier="AA", name=f"bench-{i}") for i in range(dealers)]
            direct(app, ids, 20, "warm")
            path = Path(tmp) / "orders.csv"
            orders = write_orders(path, ids, rows, "imp")
            # The baseline is measured before and after the import and the halves added up, so
            # that drift of a noisy machine weighs on both figures alike.
            first = direct(app, ids, direct_orders // 2, "direct-a")
            head = app.recorder.max_notification_id() or 0
            rate = imported(url, path, orders * len(LINES))
            events = (app.recorder.max_notification_id() or 0) - head
            second = direct(app, ids, direct_orders - direct_orders // 2, "direct-b")
            version = server_version(url)
        finally:
            app.close()
    baseline = Rate(first.name, first.count + second.count, first.seconds + second.seconds)
    return {"import": rate, "direct": baseline, "orders": orders, "events": events,
            "server": version}


def figures(quick: bool = False, database: str | None = None) -> list[dict[str, Any]]:
    rows, direct_orders = (10_000, 500) if quick else (100_000, 2_000)
    found = measure(rows, direct_orders, 20, database)
    return [figure("import_orders", found["import"].per_second, "rows/s",
                   found["direct"].per_second, ">= 0.8")]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench import", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows imported (default 100,000)")
    parser.add_argument("--direct", type=int, default=2_000,
                        help="orders placed by the command for the baseline (default 2,000)")
    parser.add_argument("--dealers", type=int, default=20, help="dealers ordering (default 20)")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL base URL (default: as the tests find one)")
    args = parser.parse_args()
    found = measure(args.rows, args.direct, args.dealers, args.database)
    rate, baseline = found["import"], found["direct"]
    print(f"PostgreSQL {found['server']}, {os.cpu_count()} cores, one process, {args.dealers} "
          f"dealers; {found['orders']:,} orders of {len(LINES)} rows, {found['events']:,} events\n")
    print(rate.line())
    print(baseline.line())
    print(f"{'ratio import ÷ command':<44} {rate.per_second / baseline.per_second:>10.3f}")


if __name__ == "__main__":
    main()
