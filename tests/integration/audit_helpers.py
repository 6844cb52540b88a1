"""Helpers of the audit tests: a short history with closes, the `channel` command in-process, and
tampering with the stored events table directly (sqlite3 or psycopg), as an intruder would."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from hypothesis import strategies as st
from psycopg import sql

from domain.errors import ChannelError
from domain.log_seal import LogSeal
from domain.values import Month
from infra.persistence import parse_database_url
from services.application import ChannelLedger
from services.cli import main
from tests.builders import fulfil, line, onboard, place, publish_prices

EVENTS_TABLE_PG = "channelledger_events"  # the library names the table after the application


def short_history(app: ChannelLedger) -> dict[str, str]:
    """Two active dealers, deliveries in January and February, both months closed, then an
    order after the last close. Returns the order ids by name."""
    publish_prices(app)
    east = onboard(app, "active", "A", "east", name="East")
    west = onboard(app, "active", "AA", "west", salesperson="bob", name="West")
    orders = {"east-first": str(app.find_order(east, "first").id),  # type: ignore[union-attr]
              "west-first": str(app.find_order(west, "first").id)}  # type: ignore[union-attr]
    fulfil(app, orders["east-first"], date(2026, 1, 20))
    fulfil(app, orders["west-first"], date(2026, 1, 21))
    app.close_period("2026-01", date(2026, 2, 1))
    orders["east-feb"] = place(app, east, "feb", on=date(2026, 2, 3), lines=[line(qty=3)])
    fulfil(app, orders["east-feb"], date(2026, 2, 10))
    app.close_period("2026-02", date(2026, 3, 1))
    orders["west-mar"] = place(app, west, "mar", on=date(2026, 3, 2))
    return orders


def run_channel(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """`channel ARGV` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def position_of(app: ChannelLedger, topic_suffix: str, originator_id: str | None = None,
                nth: int = 0) -> int:
    """The log position of the nth stored event whose topic ends with `topic_suffix`."""
    found = [
        n.id for n in app.recorder.select_notifications(start=1, limit=100_000)
        if n.topic.endswith(topic_suffix)
        and (originator_id is None or str(n.originator_id).replace("-", "")
             == originator_id.replace("-", ""))
    ]
    return found[nth]


def seal_part_id(app: ChannelLedger, month: str, part: int = 0) -> str:
    """The aggregate id of part `part` of the seal of the close of `month` (named after the
    last position the close covers)."""
    close = next(c for c in app.get_calendar().closes if c["month"] == month)
    return str(LogSeal.create_id(month, part, int(str(close["covers_to"]))))


@contextmanager
def _cursor(url: str) -> Iterator[tuple[Any, str, str]]:
    """(cursor, qualified events table, parameter mark) on the store behind `url`."""
    db = parse_database_url(url)
    if db.is_postgres:
        with psycopg.connect(db.conninfo(), autocommit=True) as conn, conn.cursor() as cur:
            table = sql.Identifier(db.schema or "public", EVENTS_TABLE_PG).as_string(conn)
            yield cur, table, "%s"
    else:
        conn = sqlite3.connect(db.path)
        try:
            yield conn.cursor(), "stored_events", "?"
            conn.commit()
        finally:
            conn.close()


def _id_column(url: str) -> str:
    return "notification_id" if parse_database_url(url).is_postgres else "rowid"


def tamper_state(url: str, position: int, old: bytes, new: bytes) -> None:
    """Replace bytes inside the stored state of the event at `position`."""
    with _cursor(url) as (cur, table, mark):
        cur.execute(f"SELECT state FROM {table} WHERE {_id_column(url)} = {mark}", (position,))
        state = bytes(cur.fetchone()[0])
        assert old in state, f"{old!r} is not in the event at {position}"
        cur.execute(f"UPDATE {table} SET state = {mark} WHERE {_id_column(url)} = {mark}",
                    (state.replace(old, new), position))


def delete_event(url: str, position: int) -> None:
    with _cursor(url) as (cur, table, mark):
        cur.execute(f"DELETE FROM {table} WHERE {_id_column(url)} = {mark}", (position,))


def stored_row(url: str, position: int) -> Sequence[Any]:
    """(originator_id, originator_version, topic, state) of the event at `position`."""
    with _cursor(url) as (cur, table, mark):
        cur.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {table} "
            f"WHERE {_id_column(url)} = {mark}", (position,))
        row: Sequence[Any] = cur.fetchone()
        return row


def insert_event(url: str, position: int, originator_id: Any, version: int, topic: str,
                 state: bytes) -> None:
    """Write a stored event at a given position, as a forger with write access would."""
    with _cursor(url) as (cur, table, mark):
        column = _id_column(url)
        cur.execute(
            f"INSERT INTO {table} ({column}, originator_id, originator_version, topic, state) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
            (position, originator_id, version, topic, state),
        )


def leave_gap(url: str, app: ChannelLedger) -> int:
    """Make the next log position unused, as an aborted PostgreSQL insert does (it consumes its
    sequence number); returns that position. On SQLite a filler row holds it until
    `remove_filler` (after the application has written past it)."""
    gap = (app.recorder.max_notification_id() or 0) + 1
    with _cursor(url) as (cur, table, mark):
        if parse_database_url(url).is_postgres:
            cur.execute(f"SELECT nextval(pg_get_serial_sequence({mark}, 'notification_id'))",
                        (table,))
        else:
            cur.execute(f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, "
                        "state) VALUES (?, 'filler', 1, 'filler', x'7b7d')", (gap,))
    return gap


def remove_filler(url: str, gap: int) -> None:
    if not parse_database_url(url).is_postgres:
        delete_event(url, gap)


# --- a random history, driven through the runtime as the HTTP intake drives it ---------------------

REGIONS = ("east", "west", "north")
SALESPEOPLE = ("alice", "bob", "chen")
AMOUNTS = (Decimal("5000"), Decimal("20000"), Decimal("100000"))
START = Month(2026, 1)


def steps() -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """A history as a list of steps, month by month: a few orders, a few other events, and most
    months a close. Steps name what they act on by index (modulo what exists)."""
    day = st.integers(1, 28)
    idx = st.integers(0, 50)
    order = st.tuples(st.just("order"), idx, st.integers(1, 400),
                      st.sampled_from(("ROUTER", "SWITCH")), day, st.booleans())
    other = st.one_of(
        st.tuples(st.just("return"), idx, st.integers(1, 5), day),
        st.tuples(st.just("dealer"), st.sampled_from(("A", "AA", "SI")),
                  st.sampled_from(REGIONS), st.integers(0, 2)),
        st.tuples(st.just("reassign"), idx, st.sampled_from(SALESPEOPLE), day),
        st.tuples(st.just("tier"), idx, st.sampled_from(("A", "AA", "SI")), day),
        st.tuples(st.just("dispute"), idx, st.booleans(), st.integers(-5000, 5000), day),
        st.tuples(st.just("confirm"), idx, day),
        st.tuples(st.just("draw"), idx, st.integers(1, 20000), day),
    )
    month = st.tuples(st.lists(order, min_size=2, max_size=8), st.lists(other, max_size=4),
                      st.integers(0, 4))

    def flatten(months: list[Any]) -> list[tuple[Any, ...]]:
        result: list[tuple[Any, ...]] = []
        for orders, others, close in months:
            result += [*orders, *others]
            if close:  # four months in five close
                result.append(("close",))
        return result

    return st.lists(month, min_size=4, max_size=9).map(flatten)


class History:
    """Plays steps on a runtime; a refused step (a domain error) writes nothing and is skipped."""

    def __init__(self, runtime: Any, start: Month = START) -> None:
        self.runtime = runtime
        self.app: ChannelLedger = runtime.app
        self.month = start
        self.dealers: list[str] = []
        self.orders: list[tuple[str, date]] = []  # delivered orders and their delivery date
        self.played = 0

    def day(self, d: int) -> date:
        return self.month.first_day.replace(day=d)

    def _do(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            done = fn(*args, **kwargs)
        except ChannelError:
            return None
        self.runtime.sync(done.position)
        return done

    def _pick(self, items: list[Any], i: int) -> Any:
        return items[i % len(items)] if items else None

    def play(self, history: list[tuple[Any, ...]]) -> None:
        """Prices, then three dealers (A east with its repair centre, AA west, SI north), then
        the steps."""
        publish_prices(self.app)
        for tier, region, amount in (("A", "east", 1), ("AA", "west", 0), ("SI", "north", 0)):
            self._dealer(tier, region, amount)
        self._repair(0, 1)
        for step in history:
            getattr(self, f"_{step[0]}")(*step[1:])
            self.played += 1
        self.runtime.refresh()

    def _dealer(self, tier: str, region: str, amount: int) -> None:
        first = self.month.first_day
        sp = SALESPEOPLE[len(self.dealers) % len(SALESPEOPLE)]
        done = self._do(self.app.register_dealer, f"D{len(self.dealers)}", region, tier, sp,
                        "x@example.com", first)
        if done is None:
            return
        dealer_id = str(done.value.id)
        self._do(self.app.sign_draft_agreement, dealer_id, first)
        self._do(self.app.submit_forecast, dealer_id,
                 [(str(self.month.plus(k)), "10000") for k in range(3)])
        if self._do(self.app.sign_formal_agreement, dealer_id, first, AMOUNTS[amount], 24):
            self.dealers.append(dealer_id)

    def _order(self, i: int, qty: int, sku: str, d: int, cheap: bool) -> None:
        dealer_id = self._pick(self.dealers, i)
        if dealer_id is None:
            return
        on = self.day(d)
        region = self.app.get_dealer(dealer_id).region
        item: dict[str, Any] = {"sku": sku, "qty": qty}
        if cheap:  # P3: below the tier price (above the floor) waits for a manager
            item["unit_price"] = "650.00" if sku == "ROUTER" else "160.00"
        done = self._do(self.app.place_order, dealer_id, f"o{self.played}", on, region,
                        "prepaid", [item])
        if done is None:
            return
        order_id = str(done.value.id)
        if cheap and self._do(self.app.decide_order, order_id, True, "ok", on) is None:
            return
        total = self.app.get_order(order_id).total
        if (self._do(self.app.record_payment, order_id, on, total)
                and self._do(self.app.ship_order, order_id, on)
                and self._do(self.app.deliver_order, order_id, on)):
            self.orders.append((order_id, on))

    def _return(self, i: int, qty: int, d: int) -> None:
        found = self._pick(self.orders, i)
        if found is None:
            return
        order_id, delivered_on = found
        sku = self.app.get_order(order_id).lines[0].sku
        self._do(self.app.return_order_lines, order_id, max(delivered_on, self.day(d)),
                 [{"sku": sku, "qty": qty}])

    def _reassign(self, i: int, salesperson: str, d: int) -> None:
        dealer_id = self._pick(self.dealers, i)
        if dealer_id is not None:
            self._do(self.app.reassign_salesperson, dealer_id, salesperson, self.day(d))

    def _tier(self, i: int, tier: str, d: int) -> None:
        dealer_id = self._pick(self.dealers, i)
        if dealer_id is not None:
            self._do(self.app.change_tier, dealer_id, tier, "review", self.day(d))

    def _close(self) -> None:
        if self._do(self.app.close_period, self.month, self.month.next().first_day):
            self.month = self.month.next()

    def _slips(self) -> list[dict[str, Any]]:
        slips: list[dict[str, Any]] = self.runtime.reports.slips()
        return slips

    def _dispute(self, i: int, accept: bool, cents: int, d: int) -> None:
        slip = self._pick(self._slips(), i)
        if slip is None or not slip["lines"]:
            return
        on = self.day(d)
        done = self._do(self.app.dispute_slip, slip["slip_id"],
                        [{"line": slip["lines"][0]["line"], "reason": "check"}], on)
        if done is None:
            return
        number = len(done.value.disputes)
        amount = Decimal(cents or 1).scaleb(-2)
        self._do(self.app.resolve_dispute, slip["slip_id"], number, accept,
                 amount if accept else None, "" if accept else "no", on)

    def _confirm(self, i: int, d: int) -> None:
        slip = self._pick(self._slips(), i)
        if slip is not None:
            self._do(self.app.confirm_slip, slip["slip_id"], self.day(d))

    def _repair(self, i: int, d: int) -> None:
        dealer_id = self._pick(self.dealers, i)
        if dealer_id is not None:
            self._do(self.app.authorize_repair_centre, dealer_id, self.day(d))

    def _draw(self, i: int, cents: int, d: int) -> None:
        dealer_id = self._pick(self.dealers, i)
        if dealer_id is not None:
            self._do(self.app.draw_spare_parts, dealer_id, self.day(d), "fan", 1,
                     Decimal(cents).scaleb(-2))
