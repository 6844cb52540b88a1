"""K2 and K4 on the demo scenario of examples/ (the one `make demo` prints), with figures computed by
hand from its orders. wang's first dealers (Shanghai Netlink, Hangzhou Wavenet) register on
2026-03-02, so March is wang's first quota month although no dealer could order in it; in April
wang sells 20 × ML-R1000 at 21,000 (SH-001) + 100 × ML-AP300 at 1,560 (HZ-001) = 576,000.

- April: target = 375,000 + March's unmet 375,000 = 750,000, not reached, so no bonus although
  576,000 is past the plain quota (K2 uses the target); probation extended because March + April
  = 576,000 < 80 % of the plain quota 750,000 = 600,000 (K4 flags use plain quota).
- May: 432,000 against 375,000 + April's unmet 174,000 = 549,000: not reached, no flag.
- June: 608,400 against 375,000 + May's unmet 117,000 = 492,000: reached, the east's bonus."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from examples.ml_company import Demo
from infra.settings import Settings
from projections.queries import Reports
from services.runtime import build_runtime
from tests.support.postgres import isolated_schema


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reports]:
    if request.param == "sqlite":
        yield from play(f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.db")
    else:
        with isolated_schema(request.getfixturevalue("postgres_server")) as url:
            yield from play(url)


def play(url: str) -> Iterator[Reports]:
    runtime = build_runtime(Settings().with_database(url), clock=lambda: date(2026, 7, 2))
    try:
        Demo(runtime.app, after=lambda done: runtime.sync(done.position), reports=runtime.reports,
             say=lambda _text: None).run()
        runtime.refresh()
        yield runtime.reports
    finally:
        runtime.close()


def wang(reports: Reports, period: str) -> dict[str, Any]:
    (row,) = [r for r in reports.salesperson_ranking(period) if r["salesperson"] == "wang"]
    return row


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        Decimal(row["net_sales"]), Decimal(row["quota"]), Decimal(row["carried"]),
        Decimal(row["target"]), row["reached"], row["achievement"], row["flags"], Decimal(row["bonus"]),
    )


def test_k4_march_counts_as_wangs_first_quota_month_from_the_registrations(demo: Reports) -> None:
    assert figures(wang(demo, "2026-03")) == (
        0, Decimal(375_000), 0, Decimal(375_000), False, Decimal("0.0000"), [], 0,
    )


def test_k2_k4_wangs_april_no_bonus_on_plain_quota_probation_on_plain_quota(demo: Reports) -> None:
    april = wang(demo, "2026-04")
    assert figures(april) == (
        Decimal(576_000), Decimal(375_000), Decimal(375_000), Decimal(750_000), False,
        Decimal("0.7680"),  # 576,000 ÷ (375,000 × 2): two quota months
        ["probation_extended"], 0,
    )
    assert april["reached_quota_on"] == date(2026, 4, 8)  # SH-001's delivery passes the plain quota
    assert april["reached_target_on"] is None


def test_k2_k4_wangs_may_and_june_carry_the_shortfall_and_june_wins_the_east(demo: Reports) -> None:
    assert figures(wang(demo, "2026-05")) == (
        Decimal(432_000), Decimal(375_000), Decimal(174_000), Decimal(549_000), False,
        Decimal("0.8960"),  # (0 + 576,000 + 432,000) ÷ 1,125,000
        [], 0,
    )
    assert figures(wang(demo, "2026-06")) == (
        Decimal(608_400), Decimal(375_000), Decimal(117_000), Decimal(492_000), True,
        Decimal("1.4368"),  # (576,000 + 432,000 + 608,400) ÷ 1,125,000
        [], Decimal(1000),
    )
    bonuses = {r["salesperson"]: Decimal(r["bonus"]) for r in demo.salesperson_ranking("2026-06")}
    assert [name for name, amount in bonuses.items() if amount] == ["wang"]


def test_k4_the_quarter_shows_aprils_probation_and_the_shortfall_carried_from_march(
    demo: Reports,
) -> None:
    assert figures(wang(demo, "2026-Q2")) == (
        Decimal(1_616_400), Decimal(1_125_000), Decimal(375_000), Decimal(1_500_000), True,
        Decimal("1.4368"), ["probation_extended"], 0,
    )
