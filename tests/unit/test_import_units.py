"""The import's machinery on an in-memory store: a unit of commands is stored in one save or not at
all, a dry run keeps what it changed in memory for the next units and stores nothing, a refusal
names the row and column of a line, and the progress bar redraws only on a terminal."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import RuleViolationError
from infra.persistence import parse_database_url
from services.application import ChannelLedger
from services.importer import Progress, StagedLedger
from services.importer.layout import ORDERS, Row, Unit
from services.importer.outcome import from_error
from tests.builders import MEMORY_ENV, POLICY, PRICE_ITEMS, line, onboard, publish_prices, rated_dealer


@pytest.fixture
def ledger() -> StagedLedger:
    app = StagedLedger(dict(MEMORY_ENV), initial_policy=POLICY)
    publish_prices(app)
    return app


def test_a_unit_is_stored_in_one_save_or_not_at_all(ledger: StagedLedger) -> None:
    dealer = onboard(ledger, "active", "A")
    head = ledger.recorder.max_notification_id()

    def paid_and_shipped_then_refused() -> None:
        order = ledger.place_order(dealer, "u-1", date(2026, 2, 2), "east", "prepaid", [line()])
        ledger.record_payment(str(order.value.id), date(2026, 2, 2), "700.00")
        ledger.ship_order(str(order.value.id), date(2026, 2, 1))  # before the order (O3)

    with pytest.raises(RuleViolationError) as refused:
        ledger.unit(paid_and_shipped_then_refused, dry_run=False)
    assert refused.value.rule == "O3"
    assert ledger.recorder.max_notification_id() == head
    assert ledger.find_order(dealer, "u-1") is None

    def placed_and_paid() -> str:
        order = ledger.place_order(dealer, "u-1", date(2026, 2, 2), "east", "prepaid", [line()])
        ledger.record_payment(str(order.value.id), date(2026, 2, 2), "700.00")
        return str(order.value.id)

    order_id, position = ledger.unit(placed_and_paid, dry_run=False)
    assert position == ledger.recorder.max_notification_id()
    assert position is not None and head is not None and position > head
    assert ledger.get_order(order_id).paid == Decimal("700.00")


def test_a_dry_run_sees_what_earlier_units_kept_and_stores_nothing(ledger: StagedLedger) -> None:
    dealer = rated_dealer(ledger)  # credit limit 10,000.00 (C3)
    head = ledger.recorder.max_notification_id()

    def credit(ref: str) -> None:
        ledger.place_order(dealer, ref, date(2026, 4, 2), "east", "credit", [line(qty=10)])

    assert ledger.unit(lambda: credit("c-1"), dry_run=True) == (None, None)
    with pytest.raises(RuleViolationError) as refused:
        ledger.unit(lambda: credit("c-2"), dry_run=True)  # 7,000.00 reserved by c-1 (kept)
    assert refused.value.rule == "C3"
    assert ledger.recorder.max_notification_id() == head
    assert ledger.get_credit_line(dealer).reserved_total == Decimal("7000.00")  # in memory only
    assert not ledger.recorder.select_notifications(start=(head or 0) + 1, limit=1)


def test_a_refusal_of_a_line_names_that_row_and_its_column_and_refuses_the_others_with_it() -> None:
    unit = Unit(("", "Alpha", "A-1"), [Row(2, {"client_ref": "A-1"}), Row(3, {"client_ref": "A-1"})])
    error = RuleViolationError("P3", "below the floor", field="lines[1].unit_price")
    found = from_error(error, ORDERS.rule, {}, "client_ref").rejections(unit)
    assert [(r.line, r.field, r.rule, r.kind) for r in found] == [
        (2, "unit_price", "P3", "refused"), (3, "unit_price", "P3", "refused")]
    assert found[0].message == "refused with line 3: below the floor"
    assert found[1].message == "below the floor"


def test_the_progress_bar_redraws_on_a_terminal_and_writes_one_line_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([0.0, 1.0, 2.0, 3.0, 4.0])
    monkeypatch.setattr("services.importer.progress.time.monotonic", lambda: next(clock))
    terminal = io.StringIO()
    bar = Progress("import orders", 4, terminal, tty=True)
    bar.advance(2)
    bar.advance(2)
    bar.close()
    assert terminal.getvalue().count("\r") == 3 and terminal.getvalue().endswith("\n")
    assert "2/4 rows (50%)" in terminal.getvalue()
    clock = iter([0.0, 1.0, 2.0, 3.0])
    log = io.StringIO()
    bar = Progress("import orders", 4, log, tty=False)
    bar.advance(2)
    bar.advance(2)
    bar.close()
    assert log.getvalue() == ("import orders [##############################] 4/4 rows (100%) "
                              "3.0 s, 1 rows/s\n")




def test_a_unit_on_a_stale_cached_copy_is_refused_at_its_save_and_decided_again_on_fresh_loads(
    tmp_path: Path,
) -> None:
    """A stored unit's first attempt takes cached aggregates unchecked; its one save checks the
    versions of those it read. Here another process published a price list meanwhile: the unit's
    cached price list would price its order at the old prices; its save is refused, and the unit
    runs again on the fresh list (P1)."""
    env = parse_database_url(f"sqlite:///{tmp_path / 'ledger.db'}").eventsourcing_env()
    staged = StagedLedger(dict(env), initial_policy=POLICY)
    other = ChannelLedger(dict(env), initial_policy=POLICY)
    try:
        publish_prices(staged)
        dealer = onboard(staged, "active", "AA")
        attempts: list[str] = []

        def order(ref: str) -> Decimal:
            attempts.append(ref)
            done = staged.place_order(dealer, ref, date(2026, 2, 2), "east", "prepaid", [line()])
            return done.value.total

        old, _ = staged.unit(lambda: order("u-1"), dry_run=False)  # the price list is cached
        dearer = [{**item, "list_price": str(Decimal(item["list_price"]) * 2),
                   "floor_price": str(Decimal(item["floor_price"]) * 2)} for item in PRICE_ITEMS]
        publish_prices(other, date(2026, 2, 1), dearer)
        new, _ = staged.unit(lambda: order("u-2"), dry_run=False)
        assert attempts == ["u-1", "u-2", "u-2"]  # the stale attempt, then the fresh one
        assert new == old * 2
        assert staged.get_order(str(staged.find_order(dealer, "u-2").id)).total == new
    finally:
        other.close()
        staged.close()
