"""O1 (every figure a command can produce fits every store the read models use), as a property:
the application driven with extreme but accepted values — the policy's bounds at their structural
ceilings, orders of the most lines, units and total, the highest prices, the longest texts in
4-byte characters, the first and last months of the calendar, many small orders, a close with its
slips and allocations, corrections and draws of the largest amounts — on SQLite and PostgreSQL;
afterwards every read model has applied every event the domain emitted, and its figures read
back as the domain computed them."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import limits
from domain.policy import OrderBounds
from domain.values import Month, Week
from infra.settings import Settings
from services.application import ChannelLedger
from services.runtime import Runtime, build_runtime
from tests.builders import policy_with
from tests.support.postgres import create_schema, drop_schema

MAX = limits.MAX_MONEY
CEILING = policy_with(
    orders=OrderBounds(limits.MAX_ORDER_LINES, limits.MAX_QTY, MAX),
    max_list_price=MAX,
    max_monthly_amount=MAX,
    max_term_months=limits.MAX_TERM_MONTHS,
    max_draw_qty=limits.MAX_QTY,
)
# First days of the months a scenario starts in: the calendar's first month, today's, and the
# latest from which a three-month forecast and the next month still lie in the calendar.
ERAS = [limits.FIRST_DAY, date(2026, 1, 1), date(limits.LAST_DAY.year, 9, 1)]
WIDE = "\U0001f600"  # four bytes in UTF-8: the longest text in bytes for its length in characters
PADDING = limits.MAX_ORDER_LINES  # items for the order of the most lines


@dataclasses.dataclass(frozen=True)
class Plan:
    era: date
    fill: str
    forecast_months: int
    lines_qty: int
    returned: int
    small: list[tuple[int, int, str]]  # (dealer 0/1, qty, kind: plain, cheap, away, cancel)
    correction: Decimal | None  # an accepted correction's amount, or None: rejected


def plans() -> st.SearchStrategy[Plan]:
    small = st.tuples(st.integers(0, 1), st.integers(1, 5),
                      st.sampled_from(["plain", "cheap", "away", "cancel"]))

    @st.composite
    def build(draw: st.DrawFn) -> Plan:
        era = draw(st.sampled_from(ERAS))
        # Months from the era's to the calendar's last, both included.
        room = (limits.LAST_DAY.year - era.year) * 12 + 12 - era.month + 1
        return Plan(
            era=era,
            fill=draw(st.sampled_from(["x", WIDE, "汉"])),
            forecast_months=draw(st.integers(3, min(limits.MAX_FORECAST_MONTHS, room))),
            lines_qty=draw(st.sampled_from([1, limits.MAX_QTY])),
            returned=draw(st.sampled_from([1, limits.MAX_QTY // 3, limits.MAX_QTY])),
            small=draw(st.lists(small, max_size=8)),
            correction=draw(st.sampled_from([MAX, -MAX, Decimal("0.01"), None])),
        )

    return build()


class Scenario:
    """Plays a plan through the application and the runtime's read side, keeping what the domain
    computed (order totals, net sales by dealer) to compare with what the read models show."""

    def __init__(self, runtime: Runtime, plan: Plan) -> None:
        self.rt = runtime
        self.app: ChannelLedger = runtime.app
        self.plan = plan
        self.month = Month.of(plan.era)
        self.next = self.month.next()
        self.orders: list[str] = []
        self.net: dict[str, Decimal] = {}
        self.refs = 0

    def text(self, length: int) -> str:
        return self.plan.fill * length

    def day(self, d: int, month: Month | None = None) -> date:
        return (month or self.month).first_day.replace(day=d)

    def do(self, done: Any) -> Any:
        """After each command the read side has applied its events (a store that cannot hold a
        figure stops it there, so the example fails at the command that produced the figure)."""
        self.rt.sync(done.position)
        if done.position is not None:
            assert self.rt.position >= done.position, (
                f"the read side stopped at {self.rt.position}, before {done.position}"
            )
        return done

    def sku(self, i: int) -> str:
        return (f"{i:04d}" + self.text(limits.text_limit("sku")))[: limits.text_limit("sku")]

    def play(self) -> None:
        app, plan = self.app, self.plan
        items = [
            {"sku": "BIG", "name": self.text(200), "list_price": str(MAX), "floor_price": "0.01"},
            {"sku": "UNIT", "name": self.text(200), "list_price": "1.00", "floor_price": "0.50"},
        ] + [{"sku": self.sku(i), "name": self.text(200), "list_price": "1.00",
              "floor_price": "0.50"} for i in range(PADDING)]
        self.do(app.publish_price_list(self.day(1), items))  # in parts: more than one event holds
        self.a = self.dealer("A", 1)
        self.si = self.dealer("SI", 2)
        self.do(app.authorize_repair_centre(self.a, self.day(2)))
        # The largest total: one unit of the highest price, asked at its list price.
        self.sell(self.a, [{"sku": "BIG", "qty": 1, "unit_price": str(MAX)}], returned=0)
        # The most units of one line, and a return of some of them.
        self.sell(self.a, [{"sku": "UNIT", "qty": limits.MAX_QTY}], returned=plan.returned)
        # The most lines.
        self.sell(self.si, [{"sku": self.sku(i), "qty": plan.lines_qty} for i in range(PADDING)],
                  returned=0)
        for who, qty, kind in plan.small:
            self.small(self.a if who == 0 else self.si, qty, kind)
        self.do(app.close_period(self.month, self.next.first_day))
        self.after_close()
        self.rt.refresh()

    def dealer(self, tier: str, n: int) -> str:
        app, on = self.app, self.day(1)
        region = (str(n) + self.text(100))[:100]
        done = self.do(app.register_dealer(self.text(200), region, tier,
                                           (str(n) + self.text(100))[:100], self.text(500), on))
        dealer_id = str(done.value.id)
        self.do(app.sign_draft_agreement(dealer_id, on))
        months = [(str(self.month.plus(k)), str(MAX)) for k in range(self.plan.forecast_months)]
        self.do(app.submit_forecast(dealer_id, months))
        self.do(app.sign_formal_agreement(dealer_id, on, str(MAX), limits.MAX_TERM_MONTHS))
        self.net[dealer_id] = Decimal("0.00")
        return dealer_id

    def place(self, dealer_id: str, lines: list[dict[str, Any]], region: str | None = None) -> str:
        self.refs += 1
        ship_to = region or self.app.get_dealer(dealer_id).region
        ref = (f"{self.refs}-" + self.text(100))[:100]
        done = self.do(self.app.place_order(dealer_id, ref, self.day(10), ship_to, "prepaid", lines))
        self.orders.append(str(done.value.id))
        return str(done.value.id)

    def fulfil(self, order_id: str) -> None:
        app, on = self.app, self.day(12)
        order = app.get_order(order_id)
        self.do(app.record_payment(order_id, on, order.total))
        self.do(app.ship_order(order_id, on))
        self.do(app.deliver_order(order_id, on))
        self.net[order.dealer_id] += order.total

    def sell(self, dealer_id: str, lines: list[dict[str, Any]], returned: int) -> None:
        order_id = self.place(dealer_id, lines)
        self.fulfil(order_id)
        if returned:
            sku = lines[0]["sku"]
            done = self.do(self.app.return_order_lines(order_id, self.day(20),
                                                       [{"sku": sku, "qty": returned}]))
            self.net[dealer_id] -= done.value.returns[-1]["value"]

    def small(self, dealer_id: str, qty: int, kind: str) -> None:
        app = self.app
        line: dict[str, Any] = {"sku": "UNIT", "qty": qty}
        if kind == "cheap":
            line["unit_price"] = "0.60"  # P3: below every tier price, above the floor
        order_id = self.place(dealer_id, [line], region=self.text(100) if kind == "away" else None)
        if kind == "cancel":
            self.do(app.cancel_order(order_id, self.text(2000), self.day(11)))
            return
        if kind in ("cheap", "away"):
            self.do(app.decide_order(order_id, kind == "cheap", self.text(2000), self.day(11)))
            if kind == "away":
                return  # rejected
        self.fulfil(order_id)

    def after_close(self) -> None:
        app, on = self.app, self.day(5, self.next)
        slip = self.rt.reports.slips(dealer_id=self.a, period=str(self.month))[0]
        self.do(app.dispute_slip(slip["slip_id"], [{"line": slip["lines"][0]["line"],
                                                    "reason": self.text(2000)}], on))
        correction = self.plan.correction
        self.do(app.resolve_dispute(slip["slip_id"], 1, correction is not None, correction,
                                    self.text(2000), on))
        balance = app.get_pool(self.a).balance
        self.drawn = balance
        self.do(app.draw_spare_parts(self.a, on, self.text(200), limits.MAX_QTY, balance))
        self.do(app.record_incident(self.si, "dispute", on, self.text(2000)))
        self.do(app.change_tier(self.si, "AA", self.text(2000), on))
        self.do(app.reassign_salesperson(self.a, self.text(100), on))
        version = dataclasses.replace(CEILING.versions[0], id=self.text(64),
                                      effective_from=self.next.first_day)
        self.do(app.publish_policy(version, self.text(2000)))


def check(scenario: Scenario) -> None:
    rt, app, month = scenario.rt, scenario.app, scenario.month
    head = app.recorder.max_notification_id()
    assert rt.position == head, f"the read side stopped at {rt.position} of {head}"
    reports = rt.reports
    totals = {r["order_id"]: r["total"] for r in reports.orders()}
    assert totals == {o: app.get_order(o).total for o in scenario.orders}
    ranking = {r["dealer_id"]: r["net_sales"] for r in reports.dealer_ranking(str(month))}
    assert ranking == scenario.net
    posted = reports.rebates(str(month), scenario.a)
    assert posted and all(e["status"] == "posted" for e in posted)
    later = reports.rebates(str(scenario.next), scenario.a)
    corrections = [e["amount"] for e in later if e["kind"] == "correction"]
    expected = scenario.plan.correction
    assert corrections == ([] if expected is None else [expected])
    reports.rebates(str(month.quarter))
    reports.rebate_explanation(scenario.a, str(month))
    assert reports.slips(dealer_id=scenario.a)
    pools = {p["pool"]: p for p in reports.spare_budgets(str(scenario.next))}
    assert pools[scenario.a]["drawn"] == scenario.drawn
    reports.spare_budgets(str(month))
    reports.salesperson_ranking(str(month))
    reports.statistics(str(month))
    salesperson = reports.dealers()[0]["salesperson"]
    reports.weekly(salesperson, str(Week.of(scenario.day(12))))
    assert {v.id for v in reports.policy().versions} == {v.id for v in app.policy.versions}


@pytest.fixture(params=["sqlite", "postgres"])
def new_store(request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    """A maker of fresh, empty stores of one kind (one per example), removed afterwards."""
    made: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if request.param == "sqlite":
            def fresh() -> str:
                made.append(f"sqlite:///{Path(tmp) / f'ledger-{len(made)}.db'}")
                return made[-1]
        else:
            server: str = request.getfixturevalue("postgres_server")

            def fresh() -> str:
                made.append(create_schema(server, "bounds"))
                return made[-1]
        yield fresh
        if request.param == "postgres":
            for url in made:
                drop_schema(url)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(plan=plans())
def test_o1_every_read_model_applies_every_event_of_extreme_accepted_commands(
    new_store: Callable[[], str], plan: Plan,
) -> None:
    config = dataclasses.replace(Settings().with_database(new_store()), CHANNEL_READ_WAIT=20.0)
    clock = Month.of(plan.era).next().first_day + timedelta(days=14)
    runtime = build_runtime(config, initial_policy=CEILING, clock=lambda: clock)
    try:
        scenario = Scenario(runtime, plan)
        scenario.play()
        check(scenario)
    finally:
        runtime.close()
