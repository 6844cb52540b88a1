"""Value objects (money, months, quarters, weeks, tiers) and the policy file: parsing, versions in
force on a date, and the half-open rebate brackets; hypothesis for the calendar and rounding."""

from __future__ import annotations

import copy
import tomllib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInputError, RuleViolationError
from domain.policy import PolicyBook
from domain.values import (
    CENT,
    Month,
    Quarter,
    Tier,
    Week,
    money,
    parse_period,
    to_decimal,
    to_whole,
)
from infra.policy_file import load_policy
from tests.builders import POLICY, POLICY_FILE

FAST = settings(max_examples=200, deadline=None)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))
months = st.builds(Month, st.integers(1900, 2999), st.integers(1, 12))
shifts = st.integers(-1200, 1200)
cents_values = st.decimals(min_value=-10**9, max_value=10**9, places=6, allow_nan=False,
                           allow_infinity=False)


def raw_policy() -> dict[str, Any]:
    with open(POLICY_FILE, "rb") as f:
        return tomllib.load(f)


# --- money -----------------------------------------------------------------------------------


@FAST
@given(cents_values)
def test_money_rounds_to_the_cent_within_half_a_cent(value: Decimal) -> None:
    rounded = money(value)
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - value) <= Decimal("0.005")
    assert money(rounded) == rounded


@FAST
@given(st.integers(-10**9, 10**9))
def test_money_rounds_half_a_cent_away_from_zero(cents: int) -> None:
    value = Decimal(cents) * CENT
    half = Decimal("0.005") if cents >= 0 else Decimal("-0.005")
    assert money(value + half) == value + (CENT if cents >= 0 else -CENT)
    assert money(-(value + half)) == -money(value + half)


def test_money_examples_round_half_up() -> None:
    assert money(Decimal("2.675")) == Decimal("2.68")  # a float would give 2.67
    assert money(Decimal("2.665")) == Decimal("2.67")
    assert money(Decimal("-2.665")) == Decimal("-2.67")
    assert money("1000") == Decimal("1000.00")


@pytest.mark.parametrize("bad", [0.1, "abc", "NaN", "Infinity", None, "1,000"])
def test_to_decimal_refuses_floats_and_non_numbers_naming_the_field(bad: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        to_decimal(bad, "list_price")
    assert caught.value.field == "list_price"


@FAST
@given(cents_values)
def test_to_decimal_reads_a_decimal_string_exactly(value: Decimal) -> None:
    assert to_decimal(str(value)) == value


@pytest.mark.parametrize("bad", [1.0, True, "1.5", "x", None])
def test_to_whole_refuses_anything_but_a_whole_number(bad: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        to_whole(bad, "qty")
    assert caught.value.field == "qty"
    assert to_whole("12", "qty") == 12


def test_tiers_parse_by_name_only() -> None:
    assert [Tier.parse(t) for t in ("A", "AA", "SI", "END")] == list(Tier)
    with pytest.raises(InvalidInputError) as caught:
        Tier.parse("a", field="tier")
    assert caught.value.field == "tier" and "A, AA, SI, END" in caught.value.message


# --- months, quarters, weeks -----------------------------------------------------------------


@FAST
@given(months, shifts, shifts)
def test_month_arithmetic_adds_up(month: Month, a: int, b: int) -> None:
    assert month.plus(a).plus(b) == month.plus(a + b)
    assert month.plus(a).plus(-a) == month
    assert (month.plus(a) > month) == (a > 0)
    assert month.next().prev() == month


@FAST
@given(days)
def test_a_month_contains_its_days_from_first_to_last(day: date) -> None:
    month = Month.of(day)
    assert month.contains(day)
    assert month.first_day <= day <= month.last_day
    assert month.last_day + timedelta(days=1) == month.next().first_day
    assert Month.parse(str(month)) == month


@FAST
@given(days, days)
def test_month_order_follows_the_calendar(a: date, b: date) -> None:
    if a <= b:
        assert Month.of(a) <= Month.of(b)


@FAST
@given(days)
def test_the_quarter_of_a_day_is_the_quarter_of_its_month(day: date) -> None:
    quarter = Quarter.of(day)
    assert Month.of(day).quarter == quarter
    assert Month.of(day) in quarter.months
    first, second, third = quarter.months
    assert (second, third) == (first.next(), first.plus(2))
    assert quarter.first_day == first.first_day and quarter.last_day == third.last_day
    assert quarter.first_day <= day <= quarter.last_day
    assert Quarter.parse(str(quarter)) == quarter
    assert parse_period(str(quarter)) == quarter


@FAST
@given(days)
def test_an_iso_week_runs_monday_to_sunday_around_its_days(day: date) -> None:
    week = Week.of(day)
    assert week.first_day.isoweekday() == 1 and week.last_day - week.first_day == timedelta(6)
    assert week.first_day <= day <= week.last_day
    assert Week.parse(str(week)) == week


def test_o6_a_quarter_closes_with_its_third_month() -> None:
    assert Quarter.parse("2026-Q2").months == (Month(2026, 4), Month(2026, 5), Month(2026, 6))
    assert Quarter.parse("2026-Q4").last_day == date(2026, 12, 31)
    assert Month(2024, 2).last_day == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("parse", "text"),
    [(Month.parse, "2026-13"), (Month.parse, "2026-00"), (Month.parse, "2026-1"),
     (Month.parse, ""), (Quarter.parse, "2026-Q5"), (Quarter.parse, "2026Q1"),
     (Week.parse, "2026-W54"), (Week.parse, "2021-W53"), (parse_period, "2026"),
     (parse_period, "2026-W01")],
)
def test_unreadable_periods_are_refused(parse: Any, text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse(text)


def test_parse_period_reads_months_and_quarters() -> None:
    assert parse_period("2026-07") == Month(2026, 7)
    assert parse_period("2026-Q3") == Quarter(2026, 3)


# --- the policy ------------------------------------------------------------------------------


def test_the_default_policy_holds_the_numbers_of_rules_md() -> None:
    version = POLICY.in_force(date(2026, 1, 1))
    assert version.id == "2026.1"
    assert (version.seat_limit(Tier.A), version.seat_limit(Tier.AA)) == (20, 100)  # D4
    assert version.seat_limit(Tier.SI) is None
    assert [version.discount(t) for t in Tier] == [  # P2
        Decimal("0.30"), Decimal("0.22"), Decimal("0.15"), Decimal("0")
    ]
    assert version.forecast_months == 3  # D2
    assert (version.credit_multiple, version.overdue_days) == (Decimal("1.0"), 30)  # C3, C5
    assert (version.qualifying_months, version.clean_months) == (3, 3)  # C2, C4
    assert version.monthly_rate(Tier.A) == Decimal("0.020")  # R2
    assert (version.spare_parts_rate, version.spare_parts_window_months) == (Decimal("0.01"), 3)
    assert version.quota == Decimal("375000")  # K4


@pytest.mark.parametrize(
    ("tier", "figure", "rate"),
    [("A", "999999.99", None), ("A", "1000000", "0.020"), ("A", "1999999.99", "0.020"),
     ("A", "2000000", "0.030"), ("A", "5000000", "0.040"), ("A", "-1", None),
     ("AA", "300000", "0.015"), ("AA", "600000", "0.025"), ("AA", "1500000", "0.030"),
     ("SI", "199999.99", None), ("SI", "200000", "0.010"), ("SI", "500000", "0.020"),
     ("END", "9999999", None)],
)
def test_r3_quarter_exactly_on_threshold_earns_that_rate(
    tier: str, figure: str, rate: str | None
) -> None:
    bracket = POLICY.in_force(date(2026, 4, 1)).quarterly_bracket(Tier(tier), Decimal(figure))
    assert (bracket.rate if bracket else None) == (Decimal(rate) if rate else None)


def two_versions() -> PolicyBook:
    data = raw_policy()
    later = copy.deepcopy(data["versions"][0])
    later.update(id="2026.2", effective_from=date(2026, 7, 1))
    later["seats"]["A"] = 25
    data["versions"].append(later)
    return PolicyBook.from_mapping(data)


def test_the_version_in_force_is_the_latest_effective_on_or_before_the_date() -> None:
    book = two_versions()
    assert book.in_force(date(2026, 6, 30)).id == "2026.1"
    assert book.in_force(date(2026, 7, 1)).id == "2026.2"
    assert book.in_force(date(2030, 1, 1)).seat_limit(Tier.A) == 25
    assert book.in_force(date(2020, 1, 1)).id == "2026.1"  # history before the first version
    assert book.by_id("2026.2").effective_from == date(2026, 7, 1)
    with pytest.raises(InvalidInputError):
        book.by_id("1999.1")


def test_load_policy_reads_the_default_file() -> None:
    assert load_policy(POLICY_FILE).versions == POLICY.versions


def test_load_policy_refuses_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        load_policy(tmp_path / "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[versions]\n")
    with pytest.raises(InvalidInputError) as caught:
        load_policy(broken)
    assert caught.value.field == "policy"


def broken_policy(change: Any) -> dict[str, Any]:
    data = raw_policy()
    change(data["versions"][0])
    return data


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda v: v.pop("seats"), "seats"),
        (lambda v: v["seats"].update(A="twenty"), "seats.A"),
        (lambda v: v["seats"].update(AA=-1), "seats.AA"),
        (lambda v: v["credit"].pop("overdue_days"), "credit.overdue_days"),
        (lambda v: v["credit"].update(overdue_days=-1), "credit.overdue_days"),
        (lambda v: v["credit"].update(multiple="lots"), "credit.multiple"),
        (lambda v: v.update(effective_from="2026-01-01"), "effective_from"),
        (lambda v: v["discounts"].update(B="0.1"), "discounts"),
        (lambda v: v["accounts"].update(rebate_expense="6601.0\u00b2"), "accounts.rebate_expense"),
    ],
)
def test_a_broken_policy_is_refused_naming_the_setting(change: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        PolicyBook.from_mapping(broken_policy(change))
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda v: v["quarterly_rebate"]["A"].reverse(), "quarterly_rebate.A"),
        (lambda v: v["quarterly_rebate"]["SI"].append(dict(v["quarterly_rebate"]["SI"][-1])),
         "quarterly_rebate.SI"),
    ],
)
def test_r3_brackets_whose_thresholds_do_not_rise_are_refused(change: Any, field: str) -> None:
    with pytest.raises(RuleViolationError) as caught:
        PolicyBook.from_mapping(broken_policy(change))
    assert caught.value.rule == "R3" and caught.value.field == field


def test_policy_versions_must_start_on_different_days_with_different_ids() -> None:
    data = raw_policy()
    data["versions"].append(copy.deepcopy(data["versions"][0]) | {"id": "2026.9"})
    with pytest.raises(InvalidInputError, match="same day"):
        PolicyBook.from_mapping(data)
    data["versions"][1]["effective_from"] = date(2027, 1, 1)
    data["versions"][1]["id"] = "2026.1"
    with pytest.raises(InvalidInputError, match="unique"):
        PolicyBook.from_mapping(data)
    with pytest.raises(InvalidInputError):
        PolicyBook.from_mapping({"versions": []})
    with pytest.raises(InvalidInputError):
        PolicyBook.from_mapping({})


def test_commands_refuse_control_characters_in_text_and_write_nothing() -> None:
    from domain.errors import InvalidInputError
    from tests.builders import memory_app, writes_nothing

    app = memory_app()
    with writes_nothing(app), pytest.raises(InvalidInputError) as refused:
        app.register_dealer("Null\x00Corp", "east", "A", "wang", "x@example.cn")
    assert "control characters" in refused.value.message
    with writes_nothing(app), pytest.raises(InvalidInputError) as refused:
        app.register_dealer(name="Acme", region="east", tier="A", salesperson="w\x07", contact="c")
    assert refused.value.field == "salesperson"


def test_settings_read_a_duration_exactly_and_refuse_one_that_is_not_a_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.settings import load

    monkeypatch.setenv("CHANNEL_READ_WAIT", "2.5")
    assert load().CHANNEL_READ_WAIT == 2.5
    monkeypatch.setenv("CHANNEL_READ_WAIT", "soon")
    with pytest.raises(ValueError, match="CHANNEL_READ_WAIT"):
        load()
