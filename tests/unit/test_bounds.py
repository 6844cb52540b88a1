"""O1 and P3 bounds by construction: what an order, a price list, an agreement, a forecast, a
draw, a payment or a correction may hold, each refused beyond its bound with the field named and
nothing written; the policy's bounds in force on the command's date, within structural ceilings;
older recorded policy versions still readable; the largest events still one Kafka message."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import RecordConflictError

from domain import limits
from domain.errors import ChannelError, InvalidInputError
from domain.order import OrderStatus
from domain.policy import ADDED_TERMS, OrderBounds, Policy, PolicyBook, version_from_terms
from domain.values import Tier
from infra.envelope import Codec, PolicyTermsSchema, RecordedPolicyTermsSchema
from services.application import ChannelLedger
from tests.builders import (
    FIRST_ORDER_ON,
    FORECAST,
    FORMAL_ON,
    POLICY,
    PRICE_ITEMS,
    fulfil,
    line,
    memory_app,
    notifications,
    onboard,
    place,
    policy_with,
    publish_prices,
    refused,
    writes_nothing,
)

V1 = POLICY.versions[0]
SMALL = OrderBounds(max_lines=2, max_qty=10, max_total=Decimal("5000.00"))
KAFKA_MAX_REQUEST_SIZE = 1_048_576  # kafka-python's default max_request_size


def small_app(**changes: Any) -> ChannelLedger:
    app = memory_app(policy_with(**({"orders": SMALL} | changes)))
    publish_prices(app)
    return app


@pytest.fixture
def small() -> ChannelLedger:
    return small_app()


@pytest.fixture
def dealer(small: ChannelLedger) -> str:
    return onboard(small, "signed")


def refusal(app: ChannelLedger, call: Any, *args: Any) -> ChannelError:
    """A command refused by a rule or as unreadable input (either may come first), writing
    nothing; returns the error."""
    with writes_nothing(app), pytest.raises(ChannelError) as caught:
        call(*args)
    return caught.value


def order(app: ChannelLedger, dealer_id: str, lines: list[dict[str, Any]], ref: str = "po",
          on: date = FIRST_ORDER_ON) -> Any:
    return app.place_order(dealer_id, ref, on, "east", "prepaid", lines)


# --- O1: lines, quantities, total -------------------------------------------------------------


def test_o1_an_order_above_the_line_bound_is_refused_naming_lines(
    small: ChannelLedger, dealer: str
) -> None:
    lines = [line("ROUTER"), line("SWITCH"), line("ROUTER")]
    error = refused(small, "O1", order, small, dealer, lines)
    assert error.field == "lines" and "at most 2 lines" in error.message


def test_o1_an_order_on_the_line_and_quantity_bounds_is_accepted(
    small: ChannelLedger, dealer: str
) -> None:
    placed = order(small, dealer, [line("ROUTER", 2), line("SWITCH", 10)]).value
    assert placed.status == OrderStatus.CONFIRMED and placed.total == Decimal("3150.00")


def test_o1_a_quantity_above_the_bound_is_refused_naming_the_line(
    small: ChannelLedger, dealer: str
) -> None:
    error = refused(small, "O1", order, small, dealer, [line("SWITCH", 1), line("ROUTER", 11)])
    assert error.field == "lines[1].qty" and "11" in error.message


def test_o1_an_order_above_the_total_bound_is_refused_naming_total(
    small: ChannelLedger, dealer: str
) -> None:
    # 7 routers at the tier-A price 700.00 = 4,900.00; one switch (175.00) more passes 5,000.00.
    order(small, dealer, [line("ROUTER", 7)], ref="under")
    error = refused(small, "O1", order, small, dealer, [line("ROUTER", 7), line("SWITCH", 1)])
    assert error.field == "total" and "5075.00" in error.message


def test_o1_an_order_exactly_on_the_total_bound_is_accepted() -> None:
    app = small_app(orders=dataclasses.replace(SMALL, max_total=Decimal("4900.00")))
    dealer_id = onboard(app, "signed")
    assert order(app, dealer_id, [line("ROUTER", 7)]).value.total == Decimal("4900.00")


def test_o1_the_bounds_are_those_of_the_policy_in_force_on_the_order_date() -> None:
    strict = dataclasses.replace(V1, id="2026.2", effective_from=date(2026, 2, 1), orders=SMALL)
    app = memory_app(PolicyBook([V1, strict]))
    publish_prices(app)
    dealer_id = onboard(app, "signed")
    assert order(app, dealer_id, [line("ROUTER", 11)], "jan", date(2026, 1, 31)).created
    error = refused(app, "O1", order, app, dealer_id, [line("ROUTER", 11)], "feb",
                    date(2026, 2, 1))
    assert error.field == "lines[0].qty"


def test_o1_a_return_of_more_lines_than_an_order_may_hold_is_refused(
    small: ChannelLedger, dealer: str
) -> None:
    order_id = str(order(small, dealer, [line("ROUTER", 3)]).value.id)
    fulfil(small, order_id, date(2026, 1, 12))
    error = refused(small, "O1", small.return_order_lines, order_id, date(2026, 1, 13),
                    [line("ROUTER", 1)] * 3)
    assert error.field == "lines"
    small.return_order_lines(order_id, date(2026, 1, 13), [line("ROUTER", 1)] * 2)


def test_o1_the_order_of_finding_2_is_refused_naming_the_quantity(app: ChannelLedger) -> None:
    """A schema-valid order of 1,000,000 units at 100,000,000,000.00 on an SKU listed at 1,000,
    which would confirm without approval: its total's cents overflow a 64-bit integer."""
    dealer_id = onboard(app, "signed")
    huge = [line("ROUTER", 1_000_000, unit_price="100000000000.00")]
    error = refused(app, "O1", order, app, dealer_id, huge)
    assert error.field == "lines[0].qty"
    error = refused(app, "P3", order, app, dealer_id, [line("ROUTER", 1, "100000000000.00")])
    assert error.field == "lines[0].unit_price"


# --- P3: no price above list --------------------------------------------------------------------


def test_p3_an_asked_price_above_the_list_price_is_refused_naming_the_line(
    app: ChannelLedger,
) -> None:
    dealer_id = onboard(app, "signed")
    error = refused(app, "P3", order, app, dealer_id,
                    [line("SWITCH", 1), line("ROUTER", 1, "1000.01")])
    assert error.field == "lines[1].unit_price" and "list price 1000.00" in error.message


def test_p3_an_asked_price_on_the_list_price_is_accepted(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "signed")
    placed = order(app, dealer_id, [line("ROUTER", 2, "1000.00")]).value
    assert placed.total == Decimal("2000.00") and not placed.needs_approval


@pytest.mark.parametrize("asked", ["1E+40", "1" * 40, "-1E+40"])
def test_p3_an_asked_price_beyond_any_amount_is_refused_not_rounded(
    app: ChannelLedger, asked: str
) -> None:
    dealer_id = onboard(app, "signed")
    error = refusal(app, order, app, dealer_id, [line("ROUTER", 1, asked)])
    assert error.field == "lines[0].unit_price" and error.rule in ("P3", None)


# --- O1: the other commands' figures -------------------------------------------------------------


def test_o3_a_payment_beyond_any_amount_is_refused_not_rounded(
    app: ChannelLedger,
) -> None:
    dealer_id = onboard(app, "signed")
    order_id = place(app, dealer_id, "po")
    error = refused(app, "O3", app.record_payment, order_id, FIRST_ORDER_ON, "1E+40")
    assert error.field == "amount"


def test_o1_an_agreed_monthly_amount_above_the_policy_bound_is_refused_naming_it() -> None:
    app = small_app(max_monthly_amount=Decimal("50000.00"))
    dealer_id = onboard(app, "forecast")
    error = refused(app, "O1", app.sign_formal_agreement, dealer_id, FORMAL_ON, "50000.01", 12)
    assert error.field == "monthly_amount"
    app.sign_formal_agreement(dealer_id, FORMAL_ON, "50000.00", 12)


def test_o1_a_term_above_the_policy_bound_is_refused_naming_term_months() -> None:
    app = small_app(max_term_months=24)
    dealer_id = onboard(app, "forecast")
    error = refused(app, "O1", app.sign_formal_agreement, dealer_id, FORMAL_ON, "10000", 25)
    assert error.field == "term_months"
    assert app.sign_formal_agreement(dealer_id, FORMAL_ON, "10000", 24).value.agreement


def test_o1_a_forecast_amount_above_the_policy_bound_is_refused_naming_the_month() -> None:
    app = small_app(max_monthly_amount=Decimal("50000.00"))
    dealer_id = onboard(app, "draft")
    months = [FORECAST[0], ("2026-02", "50000.01"), FORECAST[2]]
    error = refused(app, "O1", app.submit_forecast, dealer_id, months)
    assert error.field == "months[1].amount"


@pytest.mark.parametrize(
    ("months", "field"),
    [
        ([(f"2026-{m:02d}", "1") for m in range(1, 13)] * 6, "months"),
        ([("1899-12", "1"), ("1900-01", "1"), ("1900-02", "1")], "months[0].month"),
        ([("0000-01", "1")] * 3, "months[0].month"),
        ([("2026-01", "1E+40")] * 3, "months[0].amount"),
    ],
)
def test_o1_a_forecast_beyond_the_calendar_or_any_amount_is_refused_naming_it(
    app: ChannelLedger, months: list[tuple[str, str]], field: str
) -> None:
    dealer_id = onboard(app, "draft")
    assert refusal(app, app.submit_forecast, dealer_id, months).field == field


def test_o1_a_list_price_above_the_policy_bound_is_refused_naming_the_item() -> None:
    app = memory_app(policy_with(max_list_price=Decimal("1000.00")))
    items = [PRICE_ITEMS[1], {"sku": "CORE", "list_price": "1000.01", "floor_price": "600"}]
    error = refused(app, "O1", app.publish_price_list, date(2026, 1, 1), items)
    assert error.field == "items[1].list_price" and "CORE" in error.message
    publish_prices(app)  # ROUTER at exactly 1,000.00


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"sku": "X", "list_price": "1E+40", "floor_price": "1"}, "items[0].list_price"),
        ({"sku": "X", "list_price": "100.001", "floor_price": "1"}, "items[0].list_price"),
        ({"sku": "X" * 65, "list_price": "100", "floor_price": "60"}, "items[0].sku"),
        ({"sku": "X", "name": "n" * 201, "list_price": "100", "floor_price": "60"},
         "items[0].name"),
    ],
)
def test_o1_a_price_item_beyond_what_the_stores_hold_is_refused_naming_it(
    app: ChannelLedger, item: dict[str, str], field: str
) -> None:
    error = refused(app, None, app.publish_price_list, date(2026, 2, 1), [item],
                    error=InvalidInputError)
    assert error.field == field


def test_o1_a_price_list_of_more_items_than_a_version_holds_is_refused(app: ChannelLedger) -> None:
    items = [{"sku": f"S{i}", "list_price": "100", "floor_price": "60"}
             for i in range(limits.MAX_PRICE_ITEMS + 1)]
    error = refused(app, None, app.publish_price_list, date(2026, 2, 1), items,
                    error=InvalidInputError)
    assert error.field == "items"


def test_o1_a_draw_above_the_policy_quantity_bound_is_refused_naming_qty() -> None:
    app = small_app(max_draw_qty=5)
    dealer_id = onboard(app, "signed")
    app.authorize_repair_centre(dealer_id, FORMAL_ON)
    error = refused(app, "O1", app.draw_spare_parts, dealer_id, FORMAL_ON, "fan", 6, "10.00")
    assert error.field == "qty"
    # Within the bound, the draw meets S3 (the new pool holds nothing yet).
    refused(app, "S3", app.draw_spare_parts, dealer_id, FORMAL_ON, "fan", 5, "10.00")
    error = refused(app, None, app.draw_spare_parts, dealer_id, FORMAL_ON, "fan", 5, "1E+40",
                    error=InvalidInputError)
    assert error.field == "value"


def test_o1_a_dealer_record_holds_a_bounded_number_of_incidents(app: ChannelLedger) -> None:
    dealer_id = onboard(app, "registered")
    for k in range(limits.MAX_INCIDENTS):
        app.record_incident(dealer_id, "dispute", date(2026, 1, 3), f"incident {k}")
    error = refused(app, "O1", app.record_incident, dealer_id, "dispute", date(2026, 1, 3), "one more")
    assert error.field == "kind"


# --- O1: texts and dates every command takes ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("name", lambda app, d: app.register_dealer("n" * 201, "east", "A", "alice", "c")),
        ("contact", lambda app, d: app.register_dealer("n", "east", "A", "alice", "c" * 501)),
        ("client_ref", lambda app, d: order(app, d, [line()], ref="r" * 101)),
        ("lines[0].sku", lambda app, d: order(app, d, [line("R" * 65)])),
        ("reason", lambda app, d: app.terminate_dealer(d, date(2026, 2, 1), "r" * 2001)),
        ("note", lambda app, d: app.record_incident(d, "dispute", date(2026, 2, 1), "n" * 2001)),
    ],
)
def test_o1_a_text_longer_than_its_field_holds_is_refused_naming_the_field(
    app: ChannelLedger, field: str, call: Any
) -> None:
    dealer_id = onboard(app, "signed")
    error = refused(app, None, call, app, dealer_id, error=InvalidInputError)
    assert error.field == field and "at most" in error.message


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("registered_on",
         lambda app, d: app.register_dealer("n", "east", "A", "alice", "c", date(1899, 12, 31))),
        ("order_date", lambda app, d: order(app, d, [line()], on=date(3000, 1, 1))),
        ("effective_from", lambda app, d: app.publish_price_list(date(9999, 12, 31), PRICE_ITEMS)),
        ("signed_on", lambda app, d: app.sign_draft_agreement(d, date(1, 1, 1))),
    ],
)
def test_o1_a_business_date_outside_the_calendar_is_refused_naming_it(
    app: ChannelLedger, field: str, call: Any
) -> None:
    dealer_id = onboard(app, "registered")
    error = refused(app, None, call, app, dealer_id, error=InvalidInputError)
    assert error.field == field


def test_o1_the_calendar_s_first_and_last_days_are_accepted(app: ChannelLedger) -> None:
    first = app.register_dealer("n", "east", "A", "alice", "c", limits.FIRST_DAY).value
    assert first.registered_on == limits.FIRST_DAY
    app.sign_draft_agreement(str(first.id), limits.LAST_DAY)


# --- large price lists: parts, each one event and one save -------------------------------------


def many_items(count: int) -> list[dict[str, str]]:
    return [{"sku": f"SKU-{i:05d}", "name": f"item {i}", "list_price": "1000.00",
             "floor_price": "600.00"} for i in range(count)]


def test_p1_a_large_version_is_recorded_in_parts_and_is_in_force_with_its_last() -> None:
    app = memory_app()
    before = app.recorder.max_notification_id() or 0
    done = app.publish_price_list(date(2026, 1, 1), many_items(2 * limits.PRICE_ITEMS_PER_EVENT + 1))
    written = notifications(app)[before:]
    assert [n.topic.rsplit(".", 1)[-1] for n in written] == [
        "Opened", "ItemsStaged", "ItemsStaged", "StagedVersionPublished"
    ]  # the store's first price list opens the register with its first part
    assert done.position == written[-1].id and done.value.number == 1
    version = app.price_list_on(date(2026, 1, 1))
    assert version is not None and len(version.items) == 2 * limits.PRICE_ITEMS_PER_EVENT + 1
    assert version.items["SKU-01000"].tier_price(Tier.A) == Decimal("700.00")
    assert not app.get_price_list().staged


def test_p1_a_large_version_retried_after_a_conflict_records_only_the_missing_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = memory_app()
    saves: list[int] = []
    real_save = app._save

    def conflict_once(*args: Any, **kwargs: Any) -> int | None:
        saves.append(1)
        if len(saves) == 2:  # after the first part is recorded, another writer moves on
            raise RecordConflictError("simulated")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(app, "_save", conflict_once)
    items = many_items(3 * limits.PRICE_ITEMS_PER_EVENT)
    app.publish_price_list(date(2026, 1, 1), items)
    topics = [n.topic.rsplit(".", 1)[-1] for n in notifications(app)]
    assert topics.count("ItemsStaged") == 2 and topics.count("StagedVersionPublished") == 1
    version = app.price_list_on(date(2026, 1, 1))
    assert version is not None and list(version.items) == [i["sku"] for i in items]


def test_o1_the_largest_events_commands_produce_fit_one_kafka_message() -> None:
    """Order.Placed at the ceiling of lines (each line below its tier price, shipped out of
    region: every approval) and a price-list part, with the longest texts in 4-byte characters
    and the largest prices."""
    ceiling = dataclasses.replace(V1.orders, max_lines=limits.MAX_ORDER_LINES,
                                  max_total=limits.MAX_MONEY)
    app = memory_app(policy_with(orders=ceiling, max_list_price=limits.MAX_MONEY))
    wide = "\U0001f600"

    def sku(i: int) -> str:
        return (f"{i:05d}" + wide * 64)[:64]

    items = [{"sku": sku(i), "name": wide * 200, "list_price": "1999999999.99",
              "floor_price": "1000000000.00"} for i in range(limits.PRICE_ITEMS_PER_EVENT + 1)]
    app.publish_price_list(date(2026, 1, 1), items)
    dealer_id = onboard(app, "signed")
    lines = [line(sku(i), 1, "1100000000.01") for i in range(limits.MAX_ORDER_LINES)]
    app.place_order(dealer_id, "r" * 100, FIRST_ORDER_ON, "w" * 100, "prepaid", lines)
    codec = Codec()
    sizes = {}
    for n in notifications(app):
        event = app.mapper.to_domain_event(n)
        sizes[type(event).__qualname__] = len(codec.encode(event, position=n.id))
    assert app.get_order(str(app.find_order(dealer_id, "r" * 100).id)).needs_approval  # type: ignore[union-attr]
    assert max(sizes.values()) < KAFKA_MAX_REQUEST_SIZE * 0.9, sizes
    assert sizes["Order.Placed"] > KAFKA_MAX_REQUEST_SIZE / 2  # the worst case was built


# --- the policy's bounds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"orders": dataclasses.replace(V1.orders, max_lines=limits.MAX_ORDER_LINES + 1)},
         "orders.max_lines"),
        ({"orders": dataclasses.replace(V1.orders, max_qty=limits.MAX_QTY + 1)}, "orders.max_qty"),
        ({"orders": dataclasses.replace(V1.orders, max_total=limits.MAX_MONEY + 1)},
         "orders.max_total"),
        ({"orders": dataclasses.replace(V1.orders, max_total=Decimal("0.001"))},
         "orders.max_total"),
        ({"max_term_months": limits.MAX_TERM_MONTHS + 1}, "onboarding.max_term_months"),
        ({"overdue_days": 10**9}, "credit.overdue_days"),
        ({"spare_parts_window_months": 10**6}, "spare_parts.window_months"),
        ({"discounts": {**V1.discounts, Tier.A: Decimal("1.5")}}, "discounts.A"),
        ({"max_draw_qty": 0}, "spare_parts.max_draw_qty"),
    ],
)
def test_o1_a_policy_version_with_a_bound_beyond_its_ceiling_is_refused_naming_it(
    app: ChannelLedger, change: dict[str, Any], field: str
) -> None:
    version = dataclasses.replace(V1, id="2026.9", effective_from=date(2026, 3, 1), **change)
    error = refused(app, None, app.publish_policy, version, error=InvalidInputError)
    assert error.field == field


def test_o1_a_new_policy_version_must_state_every_bound() -> None:
    terms = V1.terms()
    del terms["prices"]
    with pytest.raises(InvalidInputError) as caught:
        version_from_terms("2026.9", date(2026, 3, 1), terms, recorded=False)
    assert caught.value.field == "prices.max_list_price"
    assert "prices" in PolicyTermsSchema().validate(terms)
    assert RecordedPolicyTermsSchema().validate(terms) == {}


def older_terms() -> dict[str, Any]:
    """The terms of a version as the log recorded them before the bounds of ADDED_TERMS existed."""
    terms = V1.terms()
    del terms["prices"]
    for path in ADDED_TERMS:
        section, key = path.split(".")
        terms.get(section, {}).pop(key, None)
    return terms


def test_r4_a_version_recorded_before_the_new_bounds_reads_them_at_their_documented_defaults() -> None:
    app = ChannelLedger({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"},
                        open_policy=False)
    register = Policy()
    register._publish(number=1, version_id=V1.id, effective_from=V1.effective_from,
                      terms=older_terms(), note="recorded by an older release")
    app.save(register)
    app.open_policy()  # the store has a policy: nothing is recorded again
    assert len(app.get_policy().published) == 1
    version = app.policy.in_force(date(2026, 6, 1))
    assert version.max_list_price == Decimal(ADDED_TERMS["prices.max_list_price"])
    assert version.max_monthly_amount == Decimal(ADDED_TERMS["onboarding.max_monthly_amount"])
    assert (version.max_term_months, version.max_draw_qty) == (
        ADDED_TERMS["onboarding.max_term_months"], ADDED_TERMS["spare_parts.max_draw_qty"])
    assert version == V1  # the defaults are the default policy's values
    # The same version published again, now stating the bounds, is the one recorded.
    with_bounds = app.publish_policy(version)
    assert not with_bounds.created and with_bounds.position is None
    # Its event still travels on Kafka, as recorded.
    last = notifications(app)[-1]
    codec = Codec()
    back = codec.decode(codec.encode(app.mapper.to_domain_event(last), position=last.id))
    assert back.data["terms"] == older_terms()
    # And the commands use it: the order bounds of the recorded version hold.
    publish_prices(app)
    dealer_id = onboard(app, "signed")
    error = refused(app, "O1", order, app, dealer_id, [line("ROUTER", V1.orders.max_qty + 1)])
    assert error.field == "lines[0].qty"


def test_o1_the_default_policy_bounds_are_those_of_rules_md_within_their_ceilings() -> None:
    assert V1.orders == OrderBounds(500, 100_000, Decimal("1000000000.00"))
    assert V1.orders.max_lines <= limits.MAX_ORDER_LINES and V1.orders.max_qty <= limits.MAX_QTY
    assert V1.max_term_months == 120 <= limits.MAX_TERM_MONTHS
    assert V1.max_draw_qty == 100_000 <= limits.MAX_QTY
    assert V1.max_list_price <= V1.orders.max_total <= limits.MAX_MONEY
