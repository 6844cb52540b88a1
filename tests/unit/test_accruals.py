"""The accrual journal (domain/accruals.py, R5, S2): hand-computed lines, balanced, the posting of a
close reversing the accrual it replaces."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.accruals import Allocation, Rebate, balances, journal
from domain.policy_terms import DEFAULT_ACCOUNTS as ACCOUNTS

END, CLOSE = date(2026, 1, 31), date(2026, 2, 1)
EXPENSE, ACCRUED, PAYABLE = "6601.01", "2241.01", "2202.01"


def test_an_open_month_accrues_the_rebate_and_allocates_the_fund() -> None:
    # Big: 10,500.00 net × 2 % = 210.00 accrued; the east pool: 11,200.00 × 1 % = 112.00.
    lines = journal(END, None, [Rebate("d1", "Big", "2026-01", "monthly", Decimal("210.00"), False)],
                    [Allocation("d1", "Big", Decimal("112.00"))], ACCOUNTS)
    assert [(x.date, x.account, x.debit, x.credit, x.dealer_id) for x in lines] == [
        (END, EXPENSE, Decimal("210.00"), Decimal("0.00"), "d1"),
        (END, ACCRUED, Decimal("0.00"), Decimal("210.00"), "d1"),
        (END, "6601.02", Decimal("112.00"), Decimal("0.00"), "d1"),
        (END, "2241.02", Decimal("0.00"), Decimal("112.00"), "d1"),
    ]
    assert balances(lines) == {EXPENSE: Decimal("210.00"), ACCRUED: Decimal("-210.00"),
                               "6601.02": Decimal("112.00"), "2241.02": Decimal("-112.00")}


def test_a_close_reverses_the_accrual_and_posts_the_rebate_payable_on_the_slip() -> None:
    posted = Rebate("d1", "Big", "2026-01", "monthly", Decimal("210.00"), True, "slip-1")
    lines = journal(END, CLOSE, [posted], [], ACCOUNTS)
    assert [(x.date, x.account, x.debit, x.credit) for x in lines[2:]] == [
        (CLOSE, ACCRUED, Decimal("210.00"), Decimal("0.00")),
        (CLOSE, EXPENSE, Decimal("0.00"), Decimal("210.00")),
        (CLOSE, EXPENSE, Decimal("210.00"), Decimal("0.00")),
        (CLOSE, PAYABLE, Decimal("0.00"), Decimal("210.00")),
    ]
    assert lines[-1].reference == "slip slip-1"
    # What stays on the books: the expense, owed to the dealer; nothing left accrued.
    assert balances(lines) == {EXPENSE: Decimal("210.00"), ACCRUED: Decimal("0.00"),
                               PAYABLE: Decimal("-210.00")}


def test_a_correction_down_swaps_the_sides_and_a_zero_rebate_writes_no_line() -> None:
    lines = journal(END, None, [Rebate("d1", "Big", "2026-01", "correction", Decimal("-30.00"), False),
                                Rebate("d2", "Small", "2026-01", "monthly", Decimal("0.00"), False)],
                    [Allocation("d1", "Big", Decimal("0.00"))], ACCOUNTS)
    assert [(x.account, x.debit, x.credit) for x in lines] == [
        (ACCRUED, Decimal("30.00"), Decimal("0.00")), (EXPENSE, Decimal("0.00"), Decimal("30.00"))]


amounts = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2)


@given(st.lists(st.tuples(amounts, st.booleans()), max_size=8), st.lists(amounts, max_size=4))
def test_every_journal_balances(rebates: list[tuple[Decimal, bool]], pools: list[Decimal]) -> None:
    lines = journal(END, CLOSE, [Rebate(f"d{i}", "D", "2026-01", "monthly", a, p, "s")
                                 for i, (a, p) in enumerate(rebates)],
                    [Allocation(f"p{i}", "P", a) for i, a in enumerate(pools)], ACCOUNTS)
    assert sum(x.debit for x in lines) == sum(x.credit for x in lines)
    assert all(x.debit >= 0 and x.credit >= 0 for x in lines)
    assert sum(balances(lines).values()) == 0
    # Accrued rebates (a credit balance) hold exactly what no close has posted yet.
    assert balances(lines).get(ACCRUED, Decimal(0)) == -sum(a for a, p in rebates if not p)
