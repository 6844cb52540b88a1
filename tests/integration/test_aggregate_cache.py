"""The aggregate cache (pitfall 9, services/commands/base.py): what a cached, fast-forwarded load
gives equals the aggregate replayed from its events, also when another process (another
application on the same store) wrote meanwhile, and after commands a rule refused; and a
command's first attempt on unchecked cached copies decides as an application without a cache
does (the same steps, the same outcomes), on SQLite and on PostgreSQL."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.credit import CreditLine
from domain.errors import RuleViolationError
from domain.period import AccountingCalendar
from domain.policy import Policy
from domain.price_list import PriceList
from services.application import ChannelLedger
from tests.builders import POLICY, app_for_url, publish_prices, rated_dealer
from tests.support.postgres import isolated_schema

DAY = date(2026, 4, 10)
# (which of two applications writes, the order's quantity, whether it is paid at once)
STEPS = st.lists(
    st.tuples(st.sampled_from([0, 1]), st.integers(min_value=1, max_value=3), st.booleans()),
    min_size=1, max_size=8,
)


def state(app: ChannelLedger, aggregate_id: UUID) -> dict[str, Any]:
    aggregate = app.repository.get(aggregate_id)
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def run(url: str, steps: list[tuple[int, int, bool]], *, cached: bool = True) -> dict[str, Any]:
    """The steps by two applications on one store (two processes): what each step came to, and
    the states every application then loads."""
    apps = [app_for_url(url) if cached else ChannelLedger(
        {**_env(url), "AGGREGATE_CACHE_MAXSIZE": ""}, initial_policy=POLICY) for _ in range(2)]
    try:
        assert (apps[0].repository.cache is not None) is cached
        publish_prices(apps[0])
        dealer_id = rated_dealer(apps[0])
        ids = [CreditLine.create_id(dealer_id), UUID(dealer_id), PriceList.create_id(),
               Policy.create_id(), AccountingCalendar.create_id()]
        for app in apps:  # every aggregate in both caches before the steps
            for aggregate_id in ids[:4]:
                state(app, aggregate_id)
        outcomes: list[Any] = []
        for number, (writer, qty, pay) in enumerate(steps):
            app = apps[writer]
            try:  # C3 refuses what the line cannot hold: a refused command changes nothing
                order = app.place_order(dealer_id, f"c-{number}", DAY, "east", "credit",
                                        [{"sku": "ROUTER", "qty": qty}]).value
            except RuleViolationError as error:
                outcomes.append(error.rule)
                continue
            app.ship_order(str(order.id), DAY)
            app.deliver_order(str(order.id), DAY)
            if pay:
                app.record_payment(str(order.id), DAY, order.total)
            again = apps[1 - writer].place_order(dealer_id, f"c-{number}", DAY, "east", "credit",
                                                 [{"sku": "ROUTER", "qty": qty}])
            assert not again.created  # O1, from the other process
            outcomes.append((again.value.status.value, again.value.total, again.value.paid))
        line = apps[0].get_credit_line(dealer_id)
        found = {"outcomes": outcomes, "credit": (line.reserved_total, line.receivable_total)}
        replayed = ChannelLedger({"AGGREGATE_CACHE_MAXSIZE": "", **_env(url)}, open_policy=False)
        try:
            assert replayed.repository.cache is None
            for aggregate_id in ids[:4]:
                expected = state(replayed, aggregate_id)
                for app in apps:
                    assert state(app, aggregate_id) == expected, aggregate_id
        finally:
            replayed.close()
        return found
    finally:
        for app in apps:
            app.close()


@given(steps=STEPS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_cached_loads_equal_the_aggregates_replayed_from_their_events(
    steps: list[tuple[int, int, bool]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        fast = run(f"sqlite:///{Path(directory) / 'store.db'}", steps)
        reference = run(f"sqlite:///{Path(directory) / 'reference.db'}", steps, cached=False)
    assert fast == reference


@given(steps=STEPS)
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_cached_loads_on_postgresql_decide_as_uncached_ones(
    postgres_server: str, steps: list[tuple[int, int, bool]],
) -> None:
    with isolated_schema(postgres_server) as fast_url, isolated_schema(postgres_server) as url:
        assert run(fast_url, steps) == run(url, steps, cached=False)


def _env(url: str) -> dict[str, str]:
    from infra.persistence import parse_database_url

    return parse_database_url(url).eventsourcing_env()
