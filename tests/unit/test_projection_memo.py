"""The view's memo (projections/model/base.py: Memo): what the orders' family read of a dealer in an
earlier batch (region, owner history) is taken again only while it cannot have changed. A batch
with a dealer's event, another feeder's batch, a failed batch: each makes the view read the
dealer again, so an order placed after a reassignment names the new salesperson (D8)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteFactory

from projections.model.base import Memo
from projections.projection import ChannelProjection, catch_up
from projections.records import EventRecord
from projections.views import ChannelView, SQLiteChannelView
from tests.builders import memory_app, onboard, publish_prices

LINES = [{"sku": "ROUTER", "qty": 1}]
NAME = "ChannelLedger"


def order(kind: str = "Order.Placed", position: int = 1) -> EventRecord:
    return EventRecord(kind, "o", position, {})


def filled() -> Memo:
    """A memo holding {"x": 1} after a batch of orders committed at position 3."""
    memo = Memo()
    with memo.batch() as m:
        values = m.open(NAME, 0, [order(position=3)])
        assert values is not None
        values["x"] = 1
        m.committed()
    return memo


def test_the_memo_holds_from_a_committed_batch_to_the_next_of_the_orders_family() -> None:
    memo = filled()
    with memo.batch() as m:  # the tracked position is the one committed: kept
        assert m.open(NAME, 3, [order("Order.Confirmed", 4)]) == {"x": 1}
        m.committed()


@pytest.mark.parametrize("case", ["moved", "other name", "dealer event", "failed",
                                  "not committed"])
def test_the_memo_is_forgotten_when_what_it_holds_may_have_changed(case: str) -> None:
    memo = filled()
    if case == "moved":  # another feeder tracked position 5 meanwhile
        with memo.batch() as m:
            assert m.open(NAME, 5, [order(position=6)]) == {}
    elif case == "other name":  # a batch tracked under another name (a consumer's partition)
        with memo.batch() as m:
            assert m.open("ChannelLedger-partition-1", 3, [order(position=6)]) == {}
    elif case == "dealer event":
        with memo.batch() as m:
            assert m.open(NAME, 3, [order(position=4), EventRecord("Dealer.Reassigned", "d", 5, {})]) is None
            m.committed()
        with memo.batch() as m:
            assert m.open(NAME, 5, [order(position=6)]) == {}
    else:
        with pytest.raises(RuntimeError), memo.batch() as m:
            values = m.open(NAME, 3, [order(position=4)])
            assert values == {"x": 1}
            if case == "failed":
                raise RuntimeError("the batch's transaction failed")
            raise RuntimeError("left before its commit")
        with memo.batch() as m:
            assert m.open(NAME, 4, [order(position=5)]) == {}


def _salesperson(view: ChannelView, order_id: str) -> Any:
    with view.reading() as db:
        return db.one("SELECT salesperson FROM @orders WHERE order_id = ?", (order_id,))[0]


def _view(path: Path) -> ChannelView:
    factory = SQLiteFactory({"SQLITE_DBNAME": str(path)})
    return factory.tracking_recorder(SQLiteChannelView)  # type: ignore[return-value]


@pytest.mark.parametrize("feeder", ["same view", "another feeder"])
def test_an_order_placed_after_a_reassignment_names_the_new_salesperson(
    tmp_path: Path, feeder: str,
) -> None:
    """Orders of one dealer projected batch after batch (the memo then holds the dealer), with the
    dealer's reassignment projected in between, by this view or by another feeder of the same
    read model."""
    app = memory_app()
    publish_prices(app)
    dealer = onboard(app, "active", tier="AA", salesperson="alice")
    view = _view(tmp_path / "read.db")
    other = _view(tmp_path / "read.db") if feeder == "another feeder" else view

    def place(ref: str, on: date) -> str:
        return str(app.place_order(dealer, ref, on, "east", "prepaid", LINES).value.id)

    def project(by: ChannelView) -> None:
        catch_up(app, ChannelProjection(by))

    first = place("one", date(2026, 5, 4))
    project(view)
    second = place("two", date(2026, 5, 5))
    project(view)  # a batch of orders only: the dealer is read, and kept
    app.reassign_salesperson(dealer, "bob", date(2026, 5, 10))
    project(other)
    third = place("three", date(2026, 5, 11))
    project(view)
    assert [_salesperson(view, o) for o in (first, second, third)] == ["alice", "alice", "bob"]
