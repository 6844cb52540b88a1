"""Shared test builders for the write side: applications on a given store, a price list, dealers
brought to each onboarding stage, a rated tier-A dealer, and the "writes nothing" check."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from datetime import date
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification

from domain.errors import ChannelError, RuleViolationError
from domain.limits import MAX_QTY
from domain.policy import PolicyBook
from domain.values import Month, Tier
from infra.persistence import parse_database_url
from infra.policy_file import load_policy
from services.application import ChannelLedger

ROOT = Path(__file__).resolve().parent.parent
POLICY_FILE = ROOT / "policy" / "default.toml"
POLICY: PolicyBook = load_policy(POLICY_FILE)
MEMORY_ENV = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}

# Business dates of the standard scenario: the default policy is in force from 2026-01-01.
PRICES_FROM = date(2026, 1, 1)
REGISTERED_ON = date(2026, 1, 2)
DRAFT_ON = date(2026, 1, 3)
FORMAL_ON = date(2026, 1, 5)
FIRST_ORDER_ON = date(2026, 1, 10)
FORECAST = [("2026-01", "10000"), ("2026-02", "10000"), ("2026-03", "10000")]
MONTHLY_AMOUNT = Decimal("10000")
TERM_MONTHS = 12

# Two SKUs; with the default discounts: A 30 %, AA 22 %, SI 15 %, END 0 %.
# ROUTER: list 1000.00 -> A 700.00, AA 780.00, SI 850.00, END 1000.00; floor 600.00.
# SWITCH: list 250.00 -> A 175.00, AA 195.00, SI 212.50, END 250.00; floor 150.00.
PRICE_ITEMS: list[dict[str, Any]] = [
    {"sku": "ROUTER", "name": "Edge router", "list_price": "1000.00", "floor_price": "600.00"},
    {"sku": "SWITCH", "name": "Access switch", "list_price": "250.00", "floor_price": "150.00"},
]

STAGES = ("registered", "draft", "forecast", "signed", "active")


def policy_with(**changes: Any) -> PolicyBook:
    """The default policy with fields of its (single) version replaced, e.g.
    `policy_with(seats={Tier.A: 2, Tier.AA: 3})` for fast seat-limit tests."""
    return PolicyBook([dataclasses.replace(v, **changes) for v in POLICY.versions])


# Scenarios that count money in units of one yuan ("UNIT" at 1.00) sell hundreds of thousands of
# units on one line; O1's bound of a line is not their subject, so they run with its ceiling.
UNIT_POLICY: PolicyBook = policy_with(
    orders=dataclasses.replace(POLICY.versions[0].orders, max_qty=MAX_QTY)
)


def small_seats(a: int = 2, aa: int = 3) -> PolicyBook:
    """D4 with few seats, so that limit tests stay fast."""
    return policy_with(seats={Tier.A: a, Tier.AA: aa})


def memory_app(
    policy: PolicyBook | None = None, clock: Callable[[], date] | None = None
) -> ChannelLedger:
    """The application on in-memory SQLite: the unit tests' store (no files, no servers)."""
    kwargs: dict[str, Any] = {} if clock is None else {"clock": clock}
    return ChannelLedger(dict(MEMORY_ENV), initial_policy=policy or POLICY, **kwargs)


def app_for_url(url: str, policy: PolicyBook | None = None, **kwargs: Any) -> ChannelLedger:
    """The application on `sqlite:///PATH` or `postgresql://…?schema=S` (integration tests)."""
    env = parse_database_url(url).eventsourcing_env()
    return ChannelLedger(env, initial_policy=policy or POLICY, **kwargs)


def publish_prices(
    app: ChannelLedger, effective_from: date = PRICES_FROM, items: list[dict[str, Any]] | None = None
) -> int:
    """Publish a price-list version; returns its number."""
    return app.publish_price_list(effective_from, items or PRICE_ITEMS).value.number


def register(
    app: ChannelLedger,
    tier: str = "A",
    region: str = "east",
    salesperson: str = "alice",
    name: str = "Dealer",
    on: date = REGISTERED_ON,
) -> str:
    """Register a dealer (D1); returns its id as a string."""
    done = app.register_dealer(name, region, tier, salesperson, f"{name}@example.com", on)
    return str(done.value.id)


def onboard(
    app: ChannelLedger,
    stage: str = "signed",
    tier: str = "A",
    region: str = "east",
    salesperson: str = "alice",
    name: str = "Dealer",
    monthly_amount: Decimal = MONTHLY_AMOUNT,
    first_order_on: date = FIRST_ORDER_ON,
) -> str:
    """A dealer brought to a stage of D2/D3: registered, draft, forecast, signed (formal
    agreement, seat taken) or active (first order placed and confirmed, client_ref "first").
    The price list must be published before stage "active"."""
    if stage not in STAGES:
        raise ValueError(f"stage: one of {STAGES}")
    dealer_id = register(app, tier, region, salesperson, name)
    if stage == "registered":
        return dealer_id
    app.sign_draft_agreement(dealer_id, DRAFT_ON)
    if stage == "draft":
        return dealer_id
    app.submit_forecast(dealer_id, FORECAST)
    if stage == "forecast":
        return dealer_id
    app.sign_formal_agreement(dealer_id, FORMAL_ON, monthly_amount, TERM_MONTHS)
    if stage == "signed":
        return dealer_id
    place(app, dealer_id, "first", on=first_order_on, region=region)
    return dealer_id


def line(sku: str = "ROUTER", qty: int = 1, unit_price: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"sku": sku, "qty": qty}
    if unit_price is not None:
        result["unit_price"] = unit_price
    return result


def place(
    app: ChannelLedger,
    dealer_id: str,
    client_ref: str,
    *,
    on: date = FIRST_ORDER_ON,
    region: str | None = None,
    payment: str = "prepaid",
    lines: list[dict[str, Any]] | None = None,
) -> str:
    """Place an order (default: one ROUTER, shipped to the dealer's region); returns its id."""
    ship_to = region or app.get_dealer(dealer_id).region
    done = app.place_order(dealer_id, client_ref, on, ship_to, payment, lines or [line()])
    return str(done.value.id)


def fulfil(app: ChannelLedger, order_id: str, on: date, *, pay_first: bool = True) -> None:
    """Take a confirmed order through payment (prepaid: before shipping), shipping, delivery."""
    order = app.get_order(order_id)
    if pay_first and order.payment.value == "prepaid":
        app.record_payment(order_id, on, order.total)
    app.ship_order(order_id, on)
    app.deliver_order(order_id, on)


def rated_dealer(
    app: ChannelLedger,
    region: str = "east",
    name: str = "Rated",
    monthly_amount: Decimal = MONTHLY_AMOUNT,
    as_of: date = date(2026, 4, 1),
) -> str:
    """A tier-A dealer whose first three agreement months (Jan–Mar 2026) each reached the agreed
    amount with prepaid orders, rated on `as_of` with the manager's attestation (C2), so its
    credit line is open with limit = monthly amount × multiple (C3). Needs the price list."""
    dealer_id = onboard(app, "signed", "A", region, name=name, monthly_amount=monthly_amount)
    version = app.price_list_on(FIRST_ORDER_ON)
    assert version is not None, "publish the price list first"
    unit = version.items["ROUTER"].tier_price(Tier.A)
    qty = int((monthly_amount / unit).to_integral_value(rounding=ROUND_CEILING))
    for i, month in enumerate(Month(2026, 1).plus(k) for k in range(3)):
        place(app, dealer_id, f"qualifying-{i}", on=month.first_day.replace(day=10),
              lines=[line(qty=qty)])
    app.evaluate_credit(dealer_id, as_of, attested=True)
    return dealer_id


def notifications(app: ChannelLedger) -> list[Notification]:
    """Every stored event, in log order."""
    return list(app.recorder.select_notifications(start=1, limit=1_000_000))


@contextlib.contextmanager
def writes_nothing(app: ChannelLedger) -> Iterator[None]:
    """Assert that the block stores no event (a refused command leaves the log as it was)."""
    before = notifications(app)
    position = app.recorder.max_notification_id()
    try:
        yield
    finally:
        assert app.recorder.max_notification_id() == position, "the refused command wrote events"
        assert notifications(app) == before, "the refused command changed the log"


def refused(
    app: ChannelLedger,
    rule: str | None,
    call: Callable[..., Any],
    *args: Any,
    error: type[ChannelError] = RuleViolationError,
    **kwargs: Any,
) -> ChannelError:
    """Run a command that must be refused with `error` citing `rule` and must store nothing;
    returns the error for further checks (message, field)."""
    with writes_nothing(app):
        try:
            call(*args, **kwargs)
        except error as caught:
            assert caught.rule == rule, f"refused under {caught.rule}, expected {rule}: {caught}"
            return caught
    raise AssertionError(f"{getattr(call, '__name__', call)} was not refused ({rule})")
