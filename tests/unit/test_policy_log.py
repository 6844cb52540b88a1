"""R4: policy versions are events in the log. A new store records policy/default.toml as its first
version; publications take effect from a day of an open month; every figure reads the versions the
log records, so publishing one changes the accruals of the open month and nothing that is closed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import RuleViolationError
from domain.policy import Policy, PolicyVersion, version_from_terms
from domain.values import Tier
from infra.policy_file import default_policy
from infra.settings import Settings
from services.runtime import Runtime, build_runtime
from tests.builders import POLICY, memory_app, notifications, refused, small_seats, writes_nothing

D = date.fromisoformat
V1 = POLICY.versions[0]
UNIT = [{"sku": "UNIT", "name": "one yuan of goods", "list_price": "1.00", "floor_price": "0.50"}]


def richer(version_id: str = "2026.7", effective_from: date = date(2026, 7, 1)) -> PolicyVersion:
    """The default terms with a tier-A monthly rate of 5 %."""
    return dataclasses.replace(
        V1, id=version_id, effective_from=effective_from,
        monthly_rebate={**V1.monthly_rebate, Tier.A: Decimal("0.050")},
    )


def test_r4_an_empty_store_records_the_default_policy_file_as_its_first_version() -> None:
    app = memory_app(policy=None)
    app_default = memory_app()
    assert app.policy.versions == default_policy().versions == app_default.policy.versions
    kinds = [n.topic.rsplit(".", 1)[-1] for n in notifications(app)]
    assert kinds == ["Opened", "VersionPublished"]
    (published,) = app.get_policy().published
    assert published["note"] == "first policy of a new store"


def test_r4_the_first_versions_of_a_store_are_the_ones_given_when_it_was_empty() -> None:
    app = memory_app(policy=small_seats(a=2))
    assert app.policy.in_force(date(2026, 5, 1)).seat_limit(Tier.A) == 2


def test_r4_the_terms_a_version_records_read_back_as_the_same_version() -> None:
    for version in default_policy().versions:
        assert version_from_terms(version.id, version.effective_from, version.terms()) == version


@settings(max_examples=50, deadline=None)
@given(
    rate=st.decimals(min_value=0, max_value=1, places=4),
    quota=st.decimals(min_value=0, max_value=10**9, places=2),
    seats=st.integers(0, 10_000),
)
def test_r4_any_version_round_trips_through_its_recorded_terms(
    rate: Decimal, quota: Decimal, seats: int
) -> None:
    version = dataclasses.replace(
        V1, monthly_rebate={**V1.monthly_rebate, Tier.SI: rate}, quota=quota,
        seats={Tier.A: seats, Tier.AA: seats + 1},
    )
    register = Policy()
    register.publish(version)
    recorded = register.book.by_id(version.id)
    assert recorded == version
    assert recorded.terms() == version.terms()


def test_r4_a_version_is_published_into_the_log_and_read_back_by_the_next_command() -> None:
    app = memory_app()
    done = app.publish_policy(richer(), "higher A rate from July")
    assert done.created and done.position is not None
    assert app.policy.in_force(date(2026, 7, 1)).monthly_rate(Tier.A) == Decimal("0.050")
    assert app.policy.in_force(date(2026, 6, 30)).id == V1.id
    assert app.get_policy().find("2026.7")["note"] == "higher A rate from July"  # type: ignore[index]


def test_r4_publishing_the_same_version_again_writes_nothing() -> None:
    app = memory_app()
    app.publish_policy(richer())
    with writes_nothing(app):
        again = app.publish_policy(richer())
    assert not again.created and again.position is None


def test_r4_an_id_taken_by_another_version_is_refused_naming_the_id() -> None:
    app = memory_app()
    app.publish_policy(richer())
    error = refused(app, "R4", app.publish_policy, richer(effective_from=date(2026, 8, 1)))
    assert error.field == "id"


def test_r4_a_later_version_for_the_same_day_replaces_the_earlier_one() -> None:
    app = memory_app()
    app.publish_policy(richer("2026.7"))
    app.publish_policy(dataclasses.replace(richer("2026.7b"), quota=Decimal("400000")))
    in_july = app.policy.in_force(date(2026, 7, 15))
    assert (in_july.id, in_july.quota) == ("2026.7b", Decimal("400000"))
    assert [v.id for v in app.policy.versions] == [V1.id, "2026.7b"]


def test_o6_a_version_effective_in_a_closed_month_is_refused_and_writes_nothing() -> None:
    app = memory_app(clock=lambda: date(2026, 7, 15))
    app.close_period("2026-01", date(2026, 2, 1))
    error = refused(app, "O6", app.publish_policy, richer(effective_from=date(2026, 1, 31)))
    assert error.field == "effective_from"
    assert app.publish_policy(richer(effective_from=date(2026, 2, 1))).created


def test_r4_a_store_is_given_its_first_policy_once_whoever_opens_it() -> None:
    app = memory_app()
    before = len(notifications(app))
    app.open_policy(small_seats(a=1))  # a later open, even with another file in mind
    assert len(notifications(app)) == before
    assert app.policy.versions == POLICY.versions


# --- every figure reads the log's versions ----------------------------------------------------------


@pytest.fixture
def july() -> Iterator[Runtime]:
    rt = build_runtime(
        Settings().with_database("sqlite:///:memory:"), clock=lambda: date(2026, 8, 15)
    )
    app = rt.app
    done: Any = app.publish_price_list(D("2026-03-01"), UNIT)
    dealer_id = str(app.register_dealer("Alpha", "east", "A", "alice", "c", D("2026-03-02")).value.id)
    app.sign_draft_agreement(dealer_id, D("2026-03-03"))
    app.submit_forecast(dealer_id, [("2026-07", "100000"), ("2026-08", "100000"), ("2026-09", "100000")])
    app.sign_formal_agreement(dealer_id, D("2026-03-04"), "100000", 12)
    sales = (("2026-06", "a", 100_000), ("2026-06", "b", 100_000),
             ("2026-07", "a", 100_000), ("2026-07", "b", 50_000))
    for month, ref, units in sales:  # lines of at most 100,000 units (O1)
        order = app.place_order(
            dealer_id, f"o-{month}-{ref}", D(f"{month}-10"), "east", "prepaid",
            [{"sku": "UNIT", "qty": units, "unit_price": "1.00"}],
        ).value
        app.record_payment(str(order.id), D(f"{month}-10"), order.total)
        app.ship_order(str(order.id), D(f"{month}-10"))
        done = app.deliver_order(str(order.id), D(f"{month}-10"))
    for month, closed_on in (("2026-03", "2026-04-01"), ("2026-04", "2026-05-01"),
                             ("2026-05", "2026-06-01"), ("2026-06", "2026-07-01")):
        done = app.close_period(month, D(closed_on))
    rt.sync(done.position)
    yield rt
    rt.close()


def monthly(rt: Runtime, period: str) -> dict[str, Any]:
    (entry,) = [e for e in rt.reports.rebates(period) if e["kind"] == "monthly"]
    return entry


def test_r4_publishing_a_version_changes_the_accrual_of_the_open_month_only(july: Runtime) -> None:
    before_july, posted_june = monthly(july, "2026-07"), monthly(july, "2026-06")
    assert (before_july["status"], before_july["amount"]) == ("accrued", Decimal("3000.00"))
    assert (posted_june["status"], posted_june["amount"]) == ("posted", Decimal("4000.00"))
    done = july.app.publish_policy(richer())
    july.sync(done.position)
    after_july, after_june = monthly(july, "2026-07"), monthly(july, "2026-06")
    assert (after_july["amount"], after_july["policy_version"]) == (Decimal("7500.00"), "2026.7")
    assert after_june == posted_june  # R5: a posted entry is never changed


def test_r4_the_close_posts_what_the_recorded_version_says(july: Runtime) -> None:
    july.sync(july.app.publish_policy(richer()).position)
    july.sync(july.app.close_period("2026-07", date(2026, 8, 1)).position)
    posted = monthly(july, "2026-07")
    assert (posted["status"], posted["amount"], posted["policy_version"]) == (
        "posted", Decimal("7500.00"), "2026.7",
    )


def test_r4_the_read_model_holds_the_versions_the_log_records(july: Runtime) -> None:
    july.sync(july.app.publish_policy(richer()).position)
    assert july.reports.policy().versions == july.app.policy.versions


def test_r4_a_read_model_without_any_recorded_version_refuses_to_price_rather_than_guess() -> None:
    rt = build_runtime(Settings().with_database("sqlite:///:memory:"))
    try:
        with rt.view.writing() as db:
            db.execute("DELETE FROM @policy_versions")
        with pytest.raises(RuleViolationError) as refused_pricing:
            rt.reports.rebates("2026-07")
        assert refused_pricing.value.rule == "R4"
    finally:
        rt.close()
