"""Rule O6: months close in order, and a closed month takes no new deliveries, returns or
payments dated in it; each close records the log range it covers (in-memory store)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidInputError
from domain.order import OrderStatus
from domain.values import Month
from infra import integrity
from services.application import ChannelLedger
from tests.builders import fulfil, onboard, place, refused


@pytest.fixture
def dealer(app: ChannelLedger) -> str:
    return onboard(app, "active")


def test_o6_closing_a_month_records_its_range_and_hash(app: ChannelLedger, dealer: str) -> None:
    position = app.recorder.max_notification_id()
    done = app.close_period("2026-01", date(2026, 2, 1))
    calendar = app.get_calendar()
    assert calendar.closed_months == ["2026-01"]
    close = calendar.closes[0]
    assert (close["covers_from"], close["covers_to"]) == (1, position)
    expected = integrity.chain_hash("", integrity.read_range(app.recorder, 1, position or 0))
    assert close["chain_hash"] == expected
    assert done.position == app.recorder.max_notification_id()


def test_o6_each_close_chains_on_the_previous_hash(app: ChannelLedger, dealer: str) -> None:
    app.close_period("2026-01", date(2026, 2, 1))
    first = app.get_calendar().closes[0]
    place(app, dealer, "feb", on=date(2026, 2, 3))
    app.close_period("2026-02", date(2026, 3, 1))
    second = app.get_calendar().closes[1]
    assert second["covers_from"] == int(str(first["covers_to"])) + 1
    events = integrity.read_range(app.recorder, int(str(second["covers_from"])),
                                  int(str(second["covers_to"])))
    assert second["chain_hash"] == integrity.chain_hash(str(first["chain_hash"]), events)


def test_o6_months_close_in_order(app: ChannelLedger) -> None:
    app.close_period("2026-01", date(2026, 2, 1))
    error = refused(app, "O6", app.close_period, "2026-03", date(2026, 4, 1))
    assert "2026-02" in error.message and error.field == "month"
    refused(app, "O6", app.close_period, "2026-01", date(2026, 4, 1))
    refused(app, "O6", app.close_period, "2025-12", date(2026, 4, 1))
    app.close_period(Month(2026, 2), date(2026, 3, 1))
    assert app.get_calendar().closed_months == ["2026-01", "2026-02"]


def test_o6_a_month_cannot_close_before_its_last_day(app: ChannelLedger) -> None:
    error = refused(app, "O6", app.close_period, "2026-01", date(2026, 1, 30))
    assert error.field == "closed_on"
    app.close_period("2026-01", date(2026, 1, 31))


def test_o6_an_unreadable_month_is_refused(app: ChannelLedger) -> None:
    error = refused(app, None, app.close_period, "2026-13", date(2026, 4, 1),
                    error=InvalidInputError)
    assert error.field == "month"


def test_o6_a_closed_month_takes_no_delivery_dated_in_it(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po", on=date(2026, 1, 20))
    app.record_payment(order_id, date(2026, 1, 20), "700.00")
    app.ship_order(order_id, date(2026, 1, 30))
    app.close_period("2026-01", date(2026, 2, 1))
    error = refused(app, "O6", app.deliver_order, order_id, date(2026, 1, 31))
    assert error.field == "delivered_on"
    # The late delivery is dated in an open month instead.
    app.deliver_order(order_id, date(2026, 2, 2))
    assert app.get_order(order_id).status == OrderStatus.PAID


def test_o6_a_closed_month_takes_no_payment_dated_in_it(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po", on=date(2026, 1, 20))
    app.close_period("2026-01", date(2026, 2, 1))
    error = refused(app, "O6", app.record_payment, order_id, date(2026, 1, 25), "700.00")
    assert error.field == "paid_on"
    app.record_payment(order_id, date(2026, 2, 1), "700.00")


def test_o6_a_closed_month_takes_no_return_dated_in_it(app: ChannelLedger, dealer: str) -> None:
    order_id = place(app, dealer, "po", on=date(2026, 1, 20))
    fulfil(app, order_id, date(2026, 1, 21))
    app.close_period("2026-01", date(2026, 2, 1))
    app.close_period("2026-02", date(2026, 3, 1))
    error = refused(app, "O6", app.return_order_lines, order_id, date(2026, 2, 27),
                    [{"sku": "ROUTER", "qty": 1}])
    assert error.field == "returned_on"
    app.return_order_lines(order_id, date(2026, 3, 2), [{"sku": "ROUTER", "qty": 1}])


def test_o6_dates_in_open_months_are_unaffected_by_a_close(
    app: ChannelLedger, dealer: str
) -> None:
    app.close_period("2026-01", date(2026, 2, 1))
    order_id = place(app, dealer, "po", on=date(2026, 2, 1))
    fulfil(app, order_id, date(2026, 2, 1))
    assert app.get_order(order_id).status == OrderStatus.PAID
