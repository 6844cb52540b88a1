"""Rebates R2–R6 on the in-memory store: the rules as pure functions, accruals while a month is
open, posting and slips at its close, and the slip's confirmation, disputes and corrections."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInputError, NotFoundError, RuleViolationError
from domain.rebates import (
    Correction,
    earns_rebates,
    monthly_rebate,
    quarterly_rebate,
    slip_lines,
    within_reach,
)
from domain.values import Month, Quarter, Tier
from infra.settings import Settings
from projections.queries.entries import rebate_why
from services.runtime import Runtime, build_runtime
from tests.builders import POLICY, UNIT_POLICY

D = date.fromisoformat
UNIT = [{"sku": "UNIT", "name": "one yuan", "list_price": "1.00", "floor_price": "0.50"}]
APRIL, Q2 = Month(2026, 4), Quarter(2026, 2)
CENTS = st.integers(min_value=-(10**9), max_value=10**9).map(lambda c: Decimal(c).scaleb(-2))


# --- the rules as functions ----------------------------------------------------------------------


def test_r2_a_month_exactly_on_the_agreed_amount_earns_the_tier_rate() -> None:
    figure = monthly_rebate(APRIL, Decimal("300000.00"), Tier.A, Decimal("300000"), POLICY)
    assert (figure.rate, figure.amount, figure.reached) == (Decimal("0.020"), Decimal("6000.00"), True)


def test_r2_a_cent_below_the_agreed_amount_earns_nothing() -> None:
    figure = monthly_rebate(APRIL, Decimal("299999.99"), Tier.A, Decimal("300000"), POLICY)
    assert (figure.rate, figure.amount, figure.reached) == (Decimal(0), Decimal("0.00"), False)


@pytest.mark.parametrize(
    ("tier", "net", "rate"),
    [
        (Tier.AA, "299999.99", "0"),
        (Tier.AA, "300000.00", "0.015"),
        (Tier.AA, "599999.99", "0.015"),
        (Tier.AA, "600000.00", "0.025"),
        (Tier.AA, "1500000.00", "0.030"),
        (Tier.A, "1000000.00", "0.020"),
        (Tier.A, "4999999.99", "0.030"),
        (Tier.A, "5000000.00", "0.040"),
        (Tier.SI, "500000.00", "0.020"),
        (Tier.END, "9000000.00", "0"),
    ],
)
def test_r3_quarter_exactly_on_threshold_earns_that_rate_and_a_cent_less_the_one_below(
    tier: Tier, net: str, rate: str
) -> None:
    figure = quarterly_rebate(Q2, Decimal(net), tier, POLICY)
    assert figure.rate == Decimal(rate)
    assert figure.amount == (Decimal(net) * Decimal(rate)).quantize(Decimal("0.01"))


@given(net=CENTS, tier=st.sampled_from(list(Tier)))
@settings(max_examples=200, deadline=None)
def test_r3_r4_every_figure_falls_in_exactly_one_bracket_and_never_earns_a_negative_rebate(
    net: Decimal, tier: Tier
) -> None:
    figure = quarterly_rebate(Q2, net, tier, POLICY)
    brackets = POLICY.in_force(Q2.first_day).quarterly_rebate[tier]
    holding = [
        b
        for i, b in enumerate(brackets)
        if b.threshold <= net and (i + 1 == len(brackets) or net < brackets[i + 1].threshold)
    ]
    assert len(holding) <= 1
    assert figure.rate == (holding[0].rate if holding and net > 0 else 0)
    assert figure.amount >= 0
    month = monthly_rebate(APRIL, net, tier, Decimal("1"), POLICY)
    assert month.amount >= 0


def test_r4_negative_net_sales_earn_zero_even_above_a_negative_agreed_amount() -> None:
    figure = monthly_rebate(APRIL, Decimal("-5000.00"), Tier.A, Decimal("-10000"), POLICY)
    assert (figure.amount, figure.rate) == (Decimal("0.00"), Decimal(0))


@pytest.mark.parametrize(
    ("tier", "net", "next_threshold", "next_rate", "gap"),
    [
        (Tier.AA, "299999.99", "300000", "0.015", "0.01"),
        (Tier.AA, "450000.00", "600000", "0.025", "150000.00"),
        (Tier.AA, "-100.00", "300000", "0.015", "300100.00"),
        (Tier.A, "5000000.00", None, None, None),
    ],
)
def test_r3_a_quarter_line_names_the_next_bracket_and_how_far_it_is(
    tier: Tier, net: str, next_threshold: str | None, next_rate: str | None, gap: str | None
) -> None:
    line = quarterly_rebate(Q2, Decimal(net), tier, POLICY)
    assert (line.next_threshold, line.next_rate, line.distance) == (
        None if next_threshold is None else Decimal(next_threshold),
        None if next_rate is None else Decimal(next_rate),
        None if gap is None else Decimal(gap),
    )


@given(net=CENTS, tier=st.sampled_from([Tier.A, Tier.AA, Tier.SI]))
@settings(max_examples=200, deadline=None)
def test_r3_reaching_the_next_threshold_earns_exactly_the_next_rate(net: Decimal, tier: Tier) -> None:
    line = quarterly_rebate(Q2, net, tier, POLICY)
    if line.next_threshold is None:
        assert line.rate == POLICY.in_force(Q2.first_day).quarterly_rebate[tier][-1].rate
        return
    assert line.distance is not None and line.distance > 0
    there = quarterly_rebate(Q2, net + line.distance, tier, POLICY)
    assert (there.rate, there.reached) == (line.next_rate, True)


def test_r2_a_month_below_the_agreed_amount_is_that_far_from_the_tier_rate() -> None:
    line = monthly_rebate(APRIL, Decimal("280000.00"), Tier.A, Decimal("300000"), POLICY)
    assert (line.next_threshold, line.next_rate, line.distance) == (
        Decimal("300000"), Decimal("0.020"), Decimal("20000.00")
    )
    assert within_reach(line, Decimal("0.10")) and not within_reach(line, Decimal("0.05"))
    reached = monthly_rebate(APRIL, Decimal("300000.00"), Tier.A, Decimal("300000"), POLICY)
    assert (reached.next_threshold, reached.distance) == (None, None)


@pytest.mark.parametrize(
    ("tier", "signed", "terminated", "earns"),
    [
        (Tier.A, "2026-04-30", None, True),  # signed by the period's end
        (Tier.A, "2026-05-01", None, False),
        (Tier.A, "2026-03-01", "2026-04-01", True),  # terminated during the period
        (Tier.A, "2026-03-01", "2026-03-31", False),  # terminated before it
        (Tier.AA, None, None, False),  # no formal agreement
        (Tier.END, "2026-03-01", None, False),  # industry customers earn no rebate
    ],
)
def test_r1_r5_who_earns_rebates_in_a_period(
    tier: Tier, signed: str | None, terminated: str | None, earns: bool
) -> None:
    day = lambda text: None if text is None else D(text)  # noqa: E731
    assert earns_rebates(APRIL, tier, day(signed), day(terminated)) is earns


def test_r5_slip_lines_carry_figures_not_sentences_month_then_quarter_then_corrections() -> None:
    june = Month(2026, 6)
    correction = Correction(june, Decimal("120.50"), "2026.1", "slip-1", 1, "A0 counted")
    lines = slip_lines([
        correction,
        quarterly_rebate(Q2, Decimal("450000.00"), Tier.AA, POLICY),
        monthly_rebate(june, Decimal("150000.00"), Tier.AA, Decimal("100000"), POLICY),
    ])
    assert [(x["line"], x["kind"], x["amount"]) for x in lines] == [
        (1, "monthly", Decimal("2250.00")),
        (2, "quarterly", Decimal("6750.00")),
        (3, "correction", Decimal("120.50")),
    ]
    assert not any("why" in x for x in lines)
    assert (lines[1]["next_threshold"], lines[2]["note"]) == (Decimal("600000"), "A0 counted")
    assert all(
        isinstance(v, str | int | bool | Decimal | None) for x in lines for v in x.values()
    )  # event payloads hold primitives only


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        ({"kind": "quarterly", "basis": "90000.00", "threshold": None, "reached": False,
          "tier": "SI", "rate": "0", "next_threshold": "200000"},
         "net sales 90000.00 stay below the lowest tier-SI threshold 200000.00"),
        ({"kind": "quarterly", "basis": "2000000.00", "threshold": "2000000", "reached": True,
          "tier": "A", "rate": "0.030"},
         "net sales 2000000.00 reach the tier-A threshold 2000000.00: rate 0.030"),
        ({"kind": "monthly", "basis": "-10000.00", "threshold": "50000", "reached": False,
          "tier": "SI", "rate": "0"},
         "net sales -10000.00 are not positive: no rebate (R4)"),
        ({"kind": "correction", "dispute": 1, "note": "A0 counted"}, "dispute 1 accepted (R6): A0 counted"),
        # A correction line of a slip issued when lines carried a `why`: its note.
        ({"kind": "correction", "dispute": 2, "why": "late delivery"},
         "dispute 2 accepted (R6): late delivery"),
    ],
)
def test_r7_the_sentence_is_rendered_from_the_lines_figures(line: dict[str, Any], sentence: str) -> None:
    assert rebate_why(line) == sentence


# --- accruals, posting and slips ---------------------------------------------------------------


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = build_runtime(
        Settings().with_database("sqlite:///:memory:"), initial_policy=UNIT_POLICY,
        clock=lambda: date(2026, 7, 15),
    )
    yield rt
    rt.close()


def sync(rt: Runtime, done: Any) -> Any:
    rt.sync(done.position)
    return done


def dealer(rt: Runtime, name: str, tier: str = "A", amount: str = "100000", region: str = "east") -> str:
    app = rt.app
    dealer_id = str(sync(rt, app.register_dealer(name, region, tier, "alice", "c", D("2026-03-02"))).value.id)
    sync(rt, app.sign_draft_agreement(dealer_id, D("2026-03-03")))
    sync(rt, app.submit_forecast(dealer_id, [("2026-04", amount), ("2026-05", amount), ("2026-06", amount)]))
    sync(rt, app.sign_formal_agreement(dealer_id, D("2026-03-04"), amount, 12))
    return dealer_id


def sell(rt: Runtime, dealer_id: str, ref: str, units: int, on: str) -> str:
    app, day = rt.app, D(on)
    order = sync(
        rt,
        app.place_order(
            dealer_id,
            ref,
            day,
            app.get_dealer(dealer_id).region,
            "prepaid",
            [{"sku": "UNIT", "qty": units, "unit_price": "1.00"}],
        ),
    ).value
    sync(rt, app.record_payment(str(order.id), day, order.total))
    sync(rt, app.ship_order(str(order.id), day))
    sync(rt, app.deliver_order(str(order.id), day))
    return str(order.id)


@pytest.fixture
def april(runtime: Runtime) -> tuple[Runtime, str]:
    sync(runtime, runtime.app.publish_price_list(D("2026-03-01"), UNIT))
    dealer_id = dealer(runtime, "Alpha")
    sell(runtime, dealer_id, "A1", 150_000, "2026-04-10")
    return runtime, dealer_id


def test_r5_an_open_month_shows_accruals_and_its_close_posts_them_unchanged(
    april: tuple[Runtime, str],
) -> None:
    rt, dealer_id = april
    (accrued,) = rt.reports.rebates("2026-04")
    assert (accrued["status"], accrued["basis"], accrued["amount"]) == (
        "accrued",
        Decimal("150000.00"),
        Decimal("3000.00"),
    )
    sync(rt, rt.app.close_period("2026-04", D("2026-05-02")))
    (posted,) = rt.reports.rebates("2026-04")
    assert posted["status"] == "posted"
    assert {k: posted[k] for k in ("basis", "rate", "amount", "policy_version")} == {
        k: accrued[k] for k in ("basis", "rate", "amount", "policy_version")
    }
    (slip,) = rt.reports.slips(dealer_id=dealer_id)
    assert (slip["period"], slip["status"], slip["issued_on"], slip["total"]) == (
        "2026-04",
        "issued",
        D("2026-05-02"),
        Decimal("3000.00"),
    )
    assert slip["slip_id"] == posted["slip_id"]


def test_r5_a_quarter_asked_for_shows_its_months_and_the_quarterly_accrual(
    april: tuple[Runtime, str],
) -> None:
    rt, _ = april
    rows = rt.reports.rebates("2026-Q2")
    assert [(r["period"], r["kind"], r["status"]) for r in rows] == [
        ("2026-04", "monthly", "accrued"),
        ("2026-05", "monthly", "accrued"),
        ("2026-06", "monthly", "accrued"),
        ("2026-Q2", "quarterly", "accrued"),
    ]


def closed_april(rt: Runtime) -> str:
    sync(rt, rt.app.close_period("2026-04", D("2026-05-02")))
    (slip,) = rt.reports.slips(period="2026-04")
    return str(slip["slip_id"])


def test_r6_the_dealer_confirms_a_slip_once(april: tuple[Runtime, str]) -> None:
    rt, _ = april
    slip_id = closed_april(rt)
    sync(rt, rt.app.confirm_slip(slip_id, D("2026-05-03")))
    slip = rt.reports.slip(slip_id)
    assert (slip["status"], slip["confirmed_on"], slip["lines"][0]["status"]) == (
        "confirmed",
        D("2026-05-03"),
        "confirmed",
    )
    with pytest.raises(RuleViolationError) as refused:
        rt.app.confirm_slip(slip_id, D("2026-05-04"))
    assert refused.value.rule == "R6"


def test_r6_an_accepted_dispute_books_a_correcting_entry_in_the_open_month_and_the_next_slip_shows_it(
    april: tuple[Runtime, str],
) -> None:
    rt, dealer_id = april
    slip_id = closed_april(rt)
    sync(
        rt,
        rt.app.dispute_slip(
            slip_id, [{"line": 1, "reason": "order A0 of 31 March is missing"}], D("2026-05-05")
        ),
    )
    assert rt.reports.slip(slip_id)["status"] == "disputed"
    with pytest.raises(RuleViolationError):
        rt.app.confirm_slip(slip_id, D("2026-05-06"))  # finance decides first
    sync(rt, rt.app.resolve_dispute(slip_id, 1, True, "120.50", "A0 counted", D("2026-05-10")))
    slip = rt.reports.slip(slip_id)
    assert (slip["status"], slip["lines"][0]["status"], slip["disputes"][0]["status"]) == (
        "resolved",
        "accepted",
        "accepted",
    )
    # The posted April entry stays as it was; the correction is a new entry in May.
    (april_entry,) = rt.reports.rebates("2026-04")
    assert april_entry["amount"] == Decimal("3000.00")
    may = rt.reports.rebates("2026-05")
    (correction,) = [e for e in may if e["kind"] == "correction"]
    assert (correction["status"], correction["amount"], correction["slip_id"]) == (
        "posted",
        Decimal("120.50"),
        slip_id,
    )
    sync(rt, rt.app.close_period("2026-05", D("2026-06-01")))
    (may_slip,) = rt.reports.slips(dealer_id=dealer_id, period="2026-05")
    assert [(x["kind"], x["amount"]) for x in may_slip["lines"]] == [
        ("monthly", Decimal("0.00")),
        ("correction", Decimal("120.50")),
    ]
    assert may_slip["total"] == Decimal("120.50")
    assert len([e for e in rt.reports.rebates("2026-05") if e["kind"] == "correction"]) == 1


def test_r6_a_rejected_dispute_needs_a_reason_and_books_nothing(april: tuple[Runtime, str]) -> None:
    rt, _ = april
    slip_id = closed_april(rt)
    sync(rt, rt.app.dispute_slip(slip_id, [{"line": 1, "reason": "too low"}], D("2026-05-05")))
    before = rt.app.recorder.max_notification_id()
    with pytest.raises(InvalidInputError) as refused:
        rt.app.resolve_dispute(slip_id, 1, False, None, "  ", D("2026-05-10"))
    assert refused.value.field == "note"
    assert rt.app.recorder.max_notification_id() == before
    sync(rt, rt.app.resolve_dispute(slip_id, 1, False, None, "the figures hold", D("2026-05-10")))
    assert rt.reports.slip(slip_id)["disputes"][0]["status"] == "rejected"
    assert [e["kind"] for e in rt.reports.rebates("2026-05")] == ["monthly"]
    sync(rt, rt.app.confirm_slip(slip_id, D("2026-05-11")))
    assert rt.reports.slip(slip_id)["status"] == "confirmed"


def test_r6_a_correction_cannot_be_dated_in_a_closed_month(april: tuple[Runtime, str]) -> None:
    rt, _ = april
    slip_id = closed_april(rt)
    sync(rt, rt.app.dispute_slip(slip_id, [{"line": 1, "reason": "x"}], D("2026-05-05")))
    with pytest.raises(RuleViolationError) as refused:
        rt.app.resolve_dispute(slip_id, 1, True, "10", "late", D("2026-04-30"))
    assert refused.value.rule == "O6"


@pytest.mark.parametrize(
    ("lines", "field"),
    [([], "lines"), ([{"line": 1, "reason": ""}], "lines")],
)
def test_r6_a_dispute_names_existing_lines_with_reasons_or_writes_nothing(
    april: tuple[Runtime, str], lines: list[dict[str, Any]], field: str
) -> None:
    rt, _ = april
    slip_id = closed_april(rt)
    before = rt.app.recorder.max_notification_id()
    with pytest.raises(InvalidInputError) as refused:
        rt.app.dispute_slip(slip_id, lines, D("2026-05-05"))
    assert refused.value.field == field
    assert rt.app.recorder.max_notification_id() == before


def test_r6_a_dispute_of_a_line_the_slip_has_not_is_not_found(
    april: tuple[Runtime, str],
) -> None:
    rt, _ = april
    slip_id = closed_april(rt)
    before = rt.app.recorder.max_notification_id()
    with pytest.raises(NotFoundError, match="no line 2"):
        rt.app.dispute_slip(slip_id, [{"line": 2, "reason": "x"}], D("2026-05-05"))
    with pytest.raises(NotFoundError, match="no dispute 1"):
        rt.app.resolve_dispute(slip_id, 1, False, None, "no such dispute", D("2026-05-06"))
    assert rt.app.recorder.max_notification_id() == before


def test_r6_an_unknown_slip_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFoundError):
        runtime.reports.slip("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundError):
        runtime.app.confirm_slip("00000000-0000-0000-0000-000000000000")


def test_r1_industry_customers_earn_no_rebate_and_get_no_slip(runtime: Runtime) -> None:
    sync(runtime, runtime.app.publish_price_list(D("2026-03-01"), UNIT))
    app = runtime.app
    end = str(
        sync(runtime, app.register_dealer("Hospital", "east", "END", "alice", "c", D("2026-03-02"))).value.id
    )
    sell(runtime, end, "H1", 500_000, "2026-04-10")
    sync(runtime, app.close_period("2026-04", D("2026-05-01")))
    assert runtime.reports.rebates("2026-04") == []
    assert runtime.reports.slips() == []


def test_r5_r7_a_close_records_figures_only_and_the_sentence_is_rendered_where_shown(
    april: tuple[Runtime, str],
) -> None:
    rt, _ = april
    sentence = "net sales 150000.00 reach the agreed 100000.00: tier A rate 0.020"
    (accrued,) = rt.reports.rebates("2026-04")
    assert accrued["why"] == sentence
    slip_id = closed_april(rt)
    (stored,) = rt.app.get_slip(slip_id).lines
    assert "why" not in stored and stored["reached"] is True
    assert rt.reports.slip(slip_id)["lines"][0]["why"] == sentence
    (posted,) = rt.reports.rebates("2026-04")
    assert (posted["status"], posted["why"]) == ("posted", sentence)


def test_r5_a_slip_issued_when_lines_carried_a_why_still_reads(april: tuple[Runtime, str]) -> None:
    rt, dealer_id = april
    old = [
        {"line": 1, "kind": "monthly", "period": "2026-04", "basis": Decimal("150000.00"),
         "rate": Decimal("0.020"), "amount": Decimal("3000.00"), "policy_version": "2026.1",
         "tier": "A", "threshold": Decimal("100000"), "reached": True, "rule": "R2",
         "why": "net sales 150000.00 reach the agreed 100000: tier A rate 0.020"},
        {"line": 2, "kind": "correction", "period": "2026-04", "basis": None, "rate": None,
         "amount": Decimal("10.00"), "policy_version": "2026.1", "tier": None,
         "threshold": None, "reached": None, "rule": "R6", "why": "A0 counted",
         "slip_id": "an earlier slip", "dispute": 1},
    ]
    sync(rt, rt.app.issue_slips("2026-04", D("2026-05-02"), 1, [{"dealer_id": dealer_id, "lines": old}]))
    (slip,) = rt.reports.slips(dealer_id=dealer_id)
    assert [(x["amount"], x["why"]) for x in slip["lines"]] == [
        (Decimal("3000.00"), "net sales 150000.00 reach the agreed 100000.00: tier A rate 0.020"),
        (Decimal("10.00"), "dispute 1 accepted (R6): A0 counted"),
    ]
    assert slip["total"] == Decimal("3010.00")
    (entry,) = [e for e in rt.reports.rebates("2026-04") if e["status"] == "posted"]
    assert (entry["amount"], entry["next_threshold"], entry["why"]) == (
        Decimal("3000.00"), None, slip["lines"][0]["why"]
    )
