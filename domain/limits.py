"""Structural limits (RULES O1: every figure a command can produce must fit every store the read
models use). These are what the stores, the Kafka message and date arithmetic can hold, not business
numbers: the business bounds are policy settings (`domain.policy`), each kept within these."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from domain.errors import InvalidInputError
from domain.values import CENT, Month, to_decimal

# Business dates: date arithmetic on them (due dates, agreement ends, month ends, trailing windows)
# stays within Python's dates, and their ISO text keeps four-digit years, so text order is date order.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)

# Every amount a command takes or produces. The read models store money summed in SQL as whole
# cents in 64-bit integers (SQLite INTEGER, PostgreSQL BIGINT): 10^14 cents leave room for 92,000
# such amounts in one sum. It is also what the HTTP money syntax can write (twelve digits).
MAX_MONEY = Decimal("999999999999.99")

# Units on one order line or one spare-parts draw: the read models' qty columns are 32-bit
# INTEGER on PostgreSQL (at most 2,147,483,647). The policy's max_qty and max_draw_qty stay at or
# below it; an amount is bounded by the order's total anyway.
MAX_QTY = 1_000_000_000

# Lines of one order: Order.Placed carries every line (with the item's name) and its approvals in
# one event, which travels as one Kafka message (kafka-python's max_request_size: 1 MB). 500 lines
# of the longest texts make about 0.8 MB. The policy's max_lines stays at or below it.
MAX_ORDER_LINES = 500

# Items of one price-list version, and how many one event carries: a version of more items is
# recorded in parts, each event under 1 MB and saved on its own (a save of several MB never returns
# on PostgreSQL, see the notes on eventsourcing).
MAX_PRICE_ITEMS = 10_000
PRICE_ITEMS_PER_EVENT = 500

# Months of one forecast (D2) and of one agreement's term ceiling (the policy's max_term_months
# stays at or below it): an agreement's end month stays a date.
MAX_FORECAST_MONTHS = 60
MAX_TERM_MONTHS = 1_200

# Ceilings of the policy's month and day counts (credit windows, probation, spare-parts window):
# every date computed with them stays a date.
MAX_POLICY_MONTHS = 120
MAX_POLICY_DAYS = 3_660

# Incidents on one dealer's record: a credit evaluation (C2) carries the dealer's incidents with
# their notes in one event, so their number is bounded like an order's lines.
MAX_INCIDENTS = 100

# Text a person types, in characters (4 bytes at most each in UTF-8). A field not named here gets
# MAX_TEXT. The names repeated on every order line and price item are kept short, so that the
# events above stay under one Kafka message.
MAX_TEXT = 2_000
TEXT_LIMITS: dict[str, int] = {
    "sku": 64,
    "name": 200,
    "region": 100,
    "ship_to_region": 100,
    "salesperson": 100,
    "client_ref": 100,
    "contact": 500,
    "part": 200,
    "pool": 100,
    "policy_id": 64,
}


def text_limit(field: str) -> int:
    """The longest text a field may hold; `field` is the field's own name (`sku`, `note`)."""
    return TEXT_LIMITS.get(field, MAX_TEXT)


def check_day(day: date, field: str) -> date:
    calendar_day = day.date() if isinstance(day, datetime) else day
    if not FIRST_DAY <= calendar_day <= LAST_DAY:
        raise InvalidInputError(
            f"{field}: {day} is outside the business calendar ({FIRST_DAY} to {LAST_DAY})",
            field=field,
        )
    return day


def check_month(month: Month, field: str) -> Month:
    if not FIRST_DAY.year <= month.year <= LAST_DAY.year:
        raise InvalidInputError(
            f"{field}: {month} is outside the business calendar ({FIRST_DAY.year} to "
            f"{LAST_DAY.year})", field=field,
        )
    return month


def to_money(
    value: object, field: str, *, maximum: Decimal = MAX_MONEY, signed: bool = False
) -> Decimal:
    """An amount in whole cents within ±`maximum`, checked before any rounding: a huge or
    over-precise decimal is refused here, never rounded into a figure no store can hold."""
    amount = to_decimal(value, field)
    if abs(amount) > maximum:
        raise InvalidInputError(f"{field}: {amount} is above {maximum}", field=field)
    if not signed and amount < 0:
        raise InvalidInputError(f"{field}: must not be negative", field=field)
    if amount != amount.quantize(CENT):
        raise InvalidInputError(f"{field}: at most two decimal places", field=field)
    return amount.quantize(CENT)
