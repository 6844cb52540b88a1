"""The projection itself: exactly once, atomic with its tracking, the same built event by event or
rebuilt from scratch, independent of how independent dealers' events interleave, and close
follow-ups that replay without effect (S2: nothing allocated twice)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import ChannelError
from domain.values import Month
from infra.settings import Settings
from projections import model
from projections.faults import ApplyError
from projections.model import dump
from projections.projection import SOURCE, ChannelProjection, catch_up
from projections.queries import Reports
from projections.records import EventRecord
from projections.views import ChannelView, SQLiteChannelView
from services.process_managers import PeriodCloseManager
from services.runtime import Runtime, build_runtime
from tests.builders import POLICY, UNIT_POLICY

D = date.fromisoformat
UNIT = [{"sku": "UNIT", "name": "one yuan", "list_price": "1.00", "floor_price": "0.50"}]
# name, tier, region, salesperson, agreed monthly amount
DEALERS = [
    ("Alpha", "A", "east", "alice", "300000"),
    ("Beta", "AA", "north", "bob", "100000"),
    ("Gamma", "SI", "west", "carol", "50000"),
]


def new_runtime() -> Runtime:
    return build_runtime(
        Settings().with_database("sqlite:///:memory:"),
        initial_policy=UNIT_POLICY,
        clock=lambda: date(2026, 12, 31),
    )


def fresh_view() -> ChannelView:
    """A read model in a database of its own (not the event store's)."""
    factory = SQLiteFactory({"SQLITE_DBNAME": ":memory:"})
    return factory.tracking_recorder(SQLiteChannelView)  # type: ignore[return-value]


def read(view: ChannelView) -> dict[str, list[tuple[object, ...]]]:
    with view.reading() as db:
        return dump(db)


@dataclasses.dataclass
class World:
    """Drives the write side with generated steps; commands a rule refuses are skipped."""

    rt: Runtime
    ids: dict[str, str] = dataclasses.field(default_factory=dict)
    orders: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    today: date = date(2026, 4, 1)

    def do(self, done: Any) -> None:
        self.rt.sync(done.position)

    def setup(self, dealers: list[tuple[str, str, str, str, str]] = DEALERS, repair: bool = True) -> None:
        app = self.rt.app
        self.do(app.publish_price_list(D("2026-03-01"), UNIT))
        for name, tier, region, salesperson, amount in dealers:
            dealer_id = str(
                app.register_dealer(name, region, tier, salesperson, "c", D("2026-03-02")).value.id
            )
            self.ids[name] = dealer_id
            self.orders[name] = []
            app.sign_draft_agreement(dealer_id, D("2026-03-03"))
            app.submit_forecast(dealer_id, [("2026-04", amount), ("2026-05", amount), ("2026-06", amount)])
            self.do(app.sign_formal_agreement(dealer_id, D("2026-03-04"), amount, 24))
        if repair:
            self.do(app.authorize_repair_centre(self.ids["Alpha"], D("2026-03-05")))

    def sell(self, name: str, units: int, on: date) -> None:
        app = self.rt.app
        order = app.place_order(
            self.ids[name],
            f"{name}-{len(self.orders[name]) + 1}",
            on,
            app.get_dealer(self.ids[name]).region,
            "prepaid",
            [{"sku": "UNIT", "qty": units, "unit_price": "1.00"}],
        ).value
        order_id = str(order.id)
        self.do(app.record_payment(order_id, on, order.total))
        self.do(app.ship_order(order_id, on))
        self.do(app.deliver_order(order_id, on))
        self.orders[name].append(order_id)

    def give_back(self, name: str, units: int, on: date) -> None:
        if not self.orders[name]:
            return
        order = self.rt.app.get_order(self.orders[name][-1])
        left = order.lines[0].qty - order.returned_qty.get("UNIT", 0)
        if left > 0:
            self.do(
                self.rt.app.return_order_lines(str(order.id), on, [{"sku": "UNIT", "qty": min(units, left)}])
            )

    def close_due(self, on: date) -> None:
        """Close every month that ended before `on`, in order."""
        calendar = self.rt.app.get_calendar()
        month = calendar.last_closed.next() if calendar.last_closed else Month(2026, 4)
        while month.last_day < on:
            self.do(self.rt.app.close_period(month, month.last_day + timedelta(days=1)))
            month = month.next()

    def step(self, kind: str, name: str, units: int, days: int) -> None:
        self.today = min(self.today + timedelta(days=days), date(2026, 9, 30))
        try:
            if kind == "sell":
                self.sell(name, units, self.today)
            elif kind == "return":
                self.give_back(name, units, self.today)
            elif kind == "close":
                self.close_due(self.today)
            elif kind == "promote":
                self.do(self.rt.app.change_tier(self.ids[name], "A", "growth", self.today))
            elif kind == "dispute":
                slips = self.rt.reports.slips(dealer_id=self.ids[name])
                if slips:
                    line = {"line": 1, "reason": "missing order"}
                    self.do(self.rt.app.dispute_slip(slips[-1]["slip_id"], [line], self.today))
            elif kind == "resolve":
                for slip in self.rt.reports.slips(dealer_id=self.ids[name]):
                    for d in slip["disputes"]:
                        if d["status"] == "open":
                            amount = Decimal(units % 500 + 1)
                            self.do(
                                self.rt.app.resolve_dispute(
                                    slip["slip_id"],
                                    d["dispute"],
                                    units % 2 == 0,
                                    amount,
                                    "checked",
                                    self.today,
                                )
                            )
            elif kind == "reassign":
                self.do(self.rt.app.reassign_salesperson(self.ids[name], f"sp-{units % 3}", self.today))
        except ChannelError:
            pass


STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["sell", "sell", "sell", "return", "close", "promote", "reassign", "dispute", "resolve"]
        ),
        st.sampled_from([d[0] for d in DEALERS]),
        st.integers(min_value=1, max_value=400_000),
        st.integers(min_value=0, max_value=20),
    ),
    min_size=1,
    max_size=25,
)


@given(steps=STEPS, size=st.integers(min_value=2, max_value=40))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_projection_built_event_by_event_equals_one_rebuilt_from_scratch(
    steps: list[tuple[str, str, int, int]], size: int,
) -> None:
    """Whatever the batches (so wherever the runs of an order's events that the orders family
    gathers begin and end), the same rows."""
    rt = new_runtime()
    try:
        world = World(rt)
        world.setup()
        for step in steps:
            world.step(*step)
        world.close_due(world.today + timedelta(days=1))
        one_by_one = ChannelProjection(fresh_view())
        catch_up(rt.app, one_by_one, batch_size=1)
        rebuilt = ChannelProjection(fresh_view())
        catch_up(rt.app, rebuilt, batch_size=1000)
        in_batches = ChannelProjection(fresh_view())
        catch_up(rt.app, in_batches, batch_size=size)
        live = read(rt.view)
        assert read(one_by_one.view) == live
        assert read(rebuilt.view) == live
        assert read(in_batches.view) == live
        assert rt.position == rt.app.recorder.max_notification_id()
    finally:
        rt.close()


IDS = ("slip_id", "order_id", "position", "facts")  # differ between runs, not figures


def figures(rt: Runtime, names: dict[str, str]) -> dict[str, Any]:
    """Every report, with dealer ids (random per run) replaced by names."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in IDS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, str):
            return names.get(value, value)
        return value

    reports = rt.reports
    result: dict[str, Any] = {}
    for period in ("2026-04", "2026-05", "2026-06", "2026-Q2"):
        result[f"rebates {period}"] = sorted(map(repr, strip(reports.rebates(period))))
        result[f"dealers {period}"] = strip(reports.dealer_ranking(period))
        result[f"salespeople {period}"] = strip(reports.salesperson_ranking(period))
        result[f"statistics {period}"] = strip(reports.statistics(period))
        result[f"slips {period}"] = sorted(map(repr, strip(reports.slips(period=period))))
    for month in ("2026-04", "2026-05", "2026-06", "2026-07"):
        result[f"budgets {month}"] = strip(reports.spare_budgets(month))
    for dealer_id in names:
        result[f"explain {names[dealer_id]}"] = strip(reports.rebate_explanation(dealer_id, "2026-Q2"))
    return result


SALES = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=90), st.integers(min_value=1, max_value=300_000), st.booleans()
    ),
    min_size=1,
    max_size=6,
)


@given(alpha=SALES, beta=SALES, order=st.randoms(use_true_random=False))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_interleaving_independent_dealers_events_changes_no_figure(
    alpha: list[tuple[int, int, bool]], beta: list[tuple[int, int, bool]], order: Any
) -> None:
    """Alpha and Beta each sell (and sometimes take back) on their own dates; the two streams are
    written one after the other, then shuffled together keeping each dealer's own order."""

    def run(sequence: list[tuple[str, int, int, bool]]) -> dict[str, Any]:
        rt = new_runtime()
        try:
            world = World(rt)
            world.setup(DEALERS[:2], repair=True)
            for name, day, units, back in sequence:
                on = date(2026, 4, 1) + timedelta(days=day)
                world.sell(name, units, on)
                if back:
                    world.give_back(name, units // 3 + 1, on)
            world.close_due(date(2026, 7, 1))
            return figures(rt, {v: k for k, v in world.ids.items()})
        finally:
            rt.close()

    def stream(name: str, sales: list[tuple[int, int, bool]]) -> list[tuple[str, int, int, bool]]:
        return [(name, day, units, back) for day, units, back in sorted(sales)]

    first, second = stream("Alpha", alpha), stream("Beta", beta)
    shuffled: list[tuple[str, int, int, bool]] = []
    a, b = list(first), list(second)
    while a or b:
        source = a if (a and (not b or order.random() < 0.5)) else b
        shuffled.append(source.pop(0))
    assert run(first + second) == run(shuffled)


# --- exactly once, atomically -------------------------------------------------------------------


@pytest.fixture
def busy() -> Iterator[World]:
    rt = new_runtime()
    world = World(rt)
    world.setup()
    for i, name in enumerate(["Alpha", "Beta", "Gamma", "Alpha"]):
        world.sell(name, 100_000 + i, date(2026, 4, 10 + i))
    world.close_due(date(2026, 5, 2))
    yield world
    rt.close()


def test_applying_the_same_events_twice_changes_nothing(busy: World) -> None:
    rt = busy.rt
    before = read(rt.view)
    notes = rt.app.recorder.select_notifications(start=1, limit=10_000)
    batch = [(rt.app.mapper.to_domain_event(n), Tracking(SOURCE, n.id)) for n in notes]
    assert rt.projection.process_events(batch) == []
    assert read(rt.view) == before


def test_a_failure_inside_a_batch_leaves_rows_and_tracking_as_they_were(
    busy: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = fresh_view()
    projection = ChannelProjection(view)
    catch_up(busy.rt.app, projection, stop=20)
    before, position = read(view), view.max_tracking_id(SOURCE)
    app = busy.rt.app
    batch = [(EventRecord.from_domain_event(app.mapper.to_domain_event(n), n.id), Tracking(SOURCE, n.id))
             for n in app.recorder.select_notifications(start=21, limit=1000)]

    def crash(db: Any, record: EventRecord) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setitem(model.HANDLERS, "Order.Delivered", crash)
    with pytest.raises(RuntimeError):
        view.process(batch)  # one transaction: all or nothing
    assert (read(view), view.max_tracking_id(SOURCE)) == (before, position)
    monkeypatch.undo()
    catch_up(busy.rt.app, projection)
    assert read(view) == read(busy.rt.view)


def test_an_event_that_cannot_be_applied_is_named_and_the_events_before_it_in_its_batch_applied(
    busy: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = busy.rt.app
    view = fresh_view()
    projection = ChannelProjection(view)
    catch_up(app, projection, stop=20)
    culprit = next(n.id for n in app.recorder.select_notifications(start=21, limit=1000)
                   if n.topic.endswith(":Order.Delivered"))

    def crash(db: Any, record: EventRecord) -> None:
        raise RuntimeError("cannot read this delivery")

    monkeypatch.setitem(model.HANDLERS, "Order.Delivered", crash)
    with pytest.raises(ApplyError) as stopped:
        catch_up(app, projection, batch_size=1000)  # the culprit sits inside the first batch
    assert (stopped.value.position, stopped.value.event_type) == (culprit, "Order.Delivered")
    assert stopped.value.reason == "RuntimeError: cannot read this delivery"
    assert view.max_tracking_id(SOURCE) == culprit - 1
    expected = ChannelProjection(fresh_view())
    catch_up(app, expected, stop=culprit - 1)
    assert read(view) == read(expected.view)  # everything before it, nothing of it or after it
    monkeypatch.undo()
    catch_up(app, projection)
    assert read(view) == read(busy.rt.view)


def test_s2_replaying_a_close_allocates_nothing_twice_and_issues_no_second_slip(busy: World) -> None:
    rt = busy.rt
    budgets, slips = rt.reports.spare_budgets("2026-04"), rt.reports.slips()
    head = rt.app.recorder.max_notification_id()
    # A restart before the process manager marked the close as done: it runs it again.
    with rt.view.writing() as db:
        db.execute("UPDATE @followups SET done_position = NULL")
    rt.sync(None)
    assert rt.managers.pending() == []
    # A read model rebuilt from scratch runs the follow-ups of every close again.
    view = fresh_view()
    manager = PeriodCloseManager(rt.app, view, Reports(view, POLICY))
    catch_up(rt.app, ChannelProjection(view))
    assert [m for m, _, _ in manager.pending()] == [Month(2026, 4)]
    assert manager.run_pending() is None
    assert rt.app.recorder.max_notification_id() == head
    assert (rt.reports.spare_budgets("2026-04"), rt.reports.slips()) == (budgets, slips)
    assert read(view) == read(rt.view)
    assert list(rt.app.get_pool("national").allocations) == ["2026-04"]


def test_s2_the_allocations_of_a_month_sum_to_one_percent_of_company_net_sales(busy: World) -> None:
    rows = busy.rt.reports.spare_budgets("2026-04")
    company = sum((r["net_sales"] for r in busy.rt.reports.statistics("2026-04")["regions"]), Decimal(0))
    assert sum(r["allocated"] for r in rows) == (company / 100).quantize(Decimal("0.01"))
    assert {r["pool"] for r in rows} == {busy.ids["Alpha"], "national"}
