"""The demo scenario, in the spirit of the seed's "ml company": a network-equipment maker selling
access switches, routers and wireless access points through A, AA and SI dealers in three
regions, plus one industry customer. Q2 2026: onboarding in March, first orders in April, a price
approval, a cross-region order, credit after the rating, a return, a repair centre with draws,
and the closes of April, May and June that end the quarter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any, Protocol

from domain.errors import ChannelError
from projections.queries import Reports
from services.application import ChannelLedger, Done

D = date.fromisoformat
QUARTER = "2026-Q2"

PRICE_LIST = [
    {"sku": "ML-S2400", "name": "24-port access switch", "list_price": "8000", "floor_price": "5000"},
    {"sku": "ML-S4800", "name": "48-port access switch", "list_price": "15000", "floor_price": "9500"},
    {"sku": "ML-R1000", "name": "enterprise router", "list_price": "30000", "floor_price": "19000"},
    {"sku": "ML-AP300", "name": "wireless access point", "list_price": "2000", "floor_price": "1200"},
]

# key: (name, region, tier, salesperson, contact, monthly amount)
DEALERS = {
    "shanghai": ("Shanghai Netlink", "east", "A", "wang", "netlink@example.cn", "300000"),
    "beijing": ("Beijing Datacom", "north", "A", "li", "datacom@example.cn", "250000"),
    "hangzhou": ("Hangzhou Wavenet", "east", "AA", "wang", "wavenet@example.cn", "100000"),
    "guangzhou": ("Guangzhou Linkpro", "south", "AA", "zhang", "linkpro@example.cn", "80000"),
    "nanjing": ("Nanjing SysInt", "east", "SI", "chen", "sysint@example.cn", "50000"),
    "hospital": ("Shenzhen Metro Hospital", "south", "END", "zhang", "it@smh.example.cn", ""),
}


class Sink(Protocol):
    def __call__(self, done: Done[Any]) -> None: ...


@dataclass
class Demo:
    """Runs the scenario through the application service, printing each step."""

    app: ChannelLedger
    after: Sink = field(default=lambda done: None)
    say: Callable[[str], None] = print
    reports: Reports | None = None
    ids: dict[str, str] = field(default_factory=dict)
    orders: dict[str, str] = field(default_factory=dict)

    def step(self, day: date, text: str, action: Callable[[], Done[Any]]) -> Done[Any] | None:
        try:
            done = action()
        except ChannelError as e:
            self.say(f"  {day}  {text}\n              refused [{e.rule or 'input'}]: {e.message}")
            return None
        self.after(done)
        return done

    # --- the story ------------------------------------------------------------------------

    def run(self) -> None:
        self.say("== Price list (P1, P2) ==")
        self.price_list()
        self.say("\n== March: registration and agreements (D1, D2, D4) ==")
        self.onboarding()
        self.say("\n== April: first orders put the agreements into effect (D3) ==")
        self.april()
        self.close("2026-04", D("2026-05-01"))
        self.say("\n== May: a price approval (P3), a cross-region order (D9), an industry customer ==")
        self.may()
        self.close("2026-05", D("2026-06-01"))
        self.say("\n== June: credit rating (C2), credit orders (C3), a return (O5), a cancellation ==")
        self.june()
        self.close("2026-06", D("2026-07-01"))
        self.say("\n== July: dealers answer their rebate confirmation slips (R5, R6) ==")
        self.slips()
        self.say("\n== July: the credit order is paid; a late delivery dated in June is refused (O6) ==")
        self.july()

    def price_list(self) -> None:
        done = self.step(
            D("2026-03-01"),
            "publish",
            lambda: self.app.publish_price_list(D("2026-03-01"), PRICE_LIST),
        )
        if done:
            version = done.value
            self.say(f"  version {version.number} in force from {version.effective_from}")
            self.say(f"  {'sku':10} {'list':>10} {'A':>10} {'AA':>10} {'SI':>10} {'floor':>10}")
            for item in version.items.values():
                tp = item.tier_prices
                self.say(
                    f"  {item.sku:10} {item.list_price:>10} {tp['A']:>10} {tp['AA']:>10} "
                    f"{tp['SI']:>10} {item.floor_price:>10}"
                )
        self.step(
            D("2026-03-01"),
            "a version with a dealer price above the SI price is refused",
            lambda: self.app.publish_price_list(
                D("2026-03-02"),
                [{"sku": "ML-X", "name": "bad", "list_price": "1000", "floor_price": "900"}],
            ),
        )

    def onboarding(self) -> None:
        for key, (name, region, tier, salesperson, contact, _) in DEALERS.items():
            done = self.step(
                D("2026-03-02"),
                f"register {name}",
                partial(
                    self.app.register_dealer, name, region, tier, salesperson, contact, D("2026-03-02")
                ),
            )
            assert done is not None
            self.ids[key] = str(done.value.id)
            self.say(f"  2026-03-02  registered {name} ({tier}, {region}, salesperson {salesperson})")
        self.step(
            D("2026-03-03"),
            "Nanjing SysInt asks for a formal agreement before the draft",
            lambda: self.app.sign_formal_agreement(self.ids["nanjing"], D("2026-03-03"), "50000", 12),
        )
        for key, (name, _, tier, _, _, amount) in DEALERS.items():
            if tier == "END":
                continue
            dealer_id = self.ids[key]
            forecast = [("2026-04", amount), ("2026-05", amount), ("2026-06", amount)]
            self.step(D("2026-03-05"), "draft",
                      partial(self.app.sign_draft_agreement, dealer_id, D("2026-03-05")))
            self.step(D("2026-03-10"), "forecast",
                      partial(self.app.submit_forecast, dealer_id, forecast))
            self.step(D("2026-03-20"), "formal",
                      partial(self.app.sign_formal_agreement, dealer_id, D("2026-03-20"), amount, 12))
            self.say(
                f"  2026-03-05..20  {name}: draft agreement, forecast for Apr–Jun, formal agreement "
                f"({amount}/month, 12 months) — waiting for its first order"
            )
        roster = self.app.get_roster()
        self.say(
            f"  seats taken: A {roster.seats_taken(_tier('A'))}, AA {roster.seats_taken(_tier('AA'))} "
            "(limits 20 and 100)"
        )
        done = self.step(
            D("2026-04-01"),
            "Shanghai Netlink becomes the east region's repair centre",
            lambda: self.app.authorize_repair_centre(self.ids["shanghai"], D("2026-04-01")),
        )
        if done:
            self.say("  2026-04-01  Shanghai Netlink signs the authorized repair-centre agreement (S1)")
        self.step(
            D("2026-04-01"),
            "Hangzhou Wavenet (AA) asks to be a repair centre too",
            lambda: self.app.authorize_repair_centre(self.ids["hangzhou"], D("2026-04-01")),
        )

    def order(
        self,
        key: str,
        ref: str,
        day: date,
        lines: list[dict[str, Any]],
        payment: str = "prepaid",
        ship_to: str | None = None,
    ) -> str | None:
        region = DEALERS[key][1]
        done = self.step(
            day,
            f"{DEALERS[key][0]} orders {ref}",
            lambda: self.app.place_order(
                self.ids[key], ref, day, ship_to or region, payment, lines
            ),
        )
        if done is None:
            return None
        order = done.value
        self.orders[ref] = str(order.id)
        what = ", ".join(f"{x.qty} × {x.sku} at {x.unit_price}" for x in order.lines)
        waits = "; ".join(a["reason"] for a in order.approvals)
        self.say(
            f"  {day}  {DEALERS[key][0]} {ref} ({payment}): {what} = {order.total} "
            f"→ {order.status}{' — ' + waits if waits else ''}"
        )
        return str(order.id)

    def fulfil(self, ref: str, paid: date | None, shipped: date, delivered: date) -> None:
        order_id = self.orders[ref]
        order = self.app.get_order(order_id)
        if paid is not None:
            self.step(paid, "pay", lambda: self.app.record_payment(order_id, paid, order.total))
        self.step(shipped, "ship", lambda: self.app.ship_order(order_id, shipped))
        done = self.step(delivered, "deliver", lambda: self.app.deliver_order(order_id, delivered))
        if done:
            self.say(
                f"  {delivered}  {ref} delivered ({'paid ' + str(paid) if paid else 'on credit'})"
            )

    def april(self) -> None:
        self.order("shanghai", "SH-001", D("2026-04-02"), [{"sku": "ML-R1000", "qty": 20}])
        self.fulfil("SH-001", D("2026-04-03"), D("2026-04-06"), D("2026-04-08"))
        self.order("beijing", "BJ-001", D("2026-04-10"), [{"sku": "ML-R1000", "qty": 15}])
        self.fulfil("BJ-001", D("2026-04-12"), D("2026-04-15"), D("2026-04-20"))
        self.order("hangzhou", "HZ-001", D("2026-04-15"), [{"sku": "ML-AP300", "qty": 100}])
        self.fulfil("HZ-001", D("2026-04-16"), D("2026-04-20"), D("2026-04-25"))
        self.order("guangzhou", "GZ-001", D("2026-04-20"), [{"sku": "ML-R1000", "qty": 5}])
        self.fulfil("GZ-001", D("2026-04-21"), D("2026-04-24"), D("2026-04-28"))
        self.order("nanjing", "NJ-001", D("2026-04-22"), [{"sku": "ML-AP300", "qty": 40}])
        self.fulfil("NJ-001", D("2026-04-23"), D("2026-04-26"), D("2026-04-29"))
        self.step(
            D("2026-04-22"),
            "Nanjing SysInt sends NJ-001 again (a retry)",
            lambda: self.app.place_order(
                self.ids["nanjing"], "NJ-001", D("2026-04-22"), "east", "prepaid",
                [{"sku": "ML-AP300", "qty": 40}],
            ),
        )
        self.say("  2026-04-22  NJ-001 sent twice → one order (O1)")
        for key in ("shanghai", "beijing", "hangzhou", "guangzhou", "nanjing"):
            dealer = self.app.get_dealer(self.ids[key])
            assert dealer.agreement is not None
            self.say(
                f"  {dealer.name}: {dealer.status}, agreement in effect from "
                f"{dealer.agreement['start_month']}"
            )

    def may(self) -> None:
        self.order("shanghai", "SH-002", D("2026-05-06"), [{"sku": "ML-S4800", "qty": 30}])
        self.fulfil("SH-002", D("2026-05-07"), D("2026-05-09"), D("2026-05-12"))
        self.step(
            D("2026-05-08"),
            "Beijing Datacom asks ML-S4800 at 9,000 (below the floor 9,500)",
            lambda: self.app.place_order(
                self.ids["beijing"], "BJ-002", D("2026-05-08"), "north", "prepaid",
                [{"sku": "ML-S4800", "qty": 40, "unit_price": "9000"}],
            ),
        )
        order_id = self.order(
            "beijing", "BJ-002", D("2026-05-08"),
            [{"sku": "ML-S4800", "qty": 40, "unit_price": "10000"}],
        )
        if order_id:
            self.step(D("2026-05-09"), "approve", partial(
                self.app.decide_order, order_id, True, "project win at Beijing University",
                D("2026-05-09")))
            self.say("  2026-05-09  the sales manager approves BJ-002's price (P3) → confirmed")
            self.fulfil("BJ-002", D("2026-05-10"), D("2026-05-14"), D("2026-05-20"))
        order_id = self.order(
            "hangzhou", "HZ-002", D("2026-05-20"), [{"sku": "ML-S4800", "qty": 10}], ship_to="north"
        )
        if order_id:
            self.step(D("2026-05-21"), "approve", lambda: self.app.decide_order(
                order_id, True, "customer's branch office in Tianjin", D("2026-05-21")))
            self.say("  2026-05-21  the north region manager approves HZ-002's destination (D9)")
            self.fulfil("HZ-002", D("2026-05-22"), D("2026-05-25"), D("2026-05-28"))
        self.order("guangzhou", "GZ-002", D("2026-05-11"), [{"sku": "ML-S2400", "qty": 10}])
        self.fulfil("GZ-002", D("2026-05-12"), D("2026-05-14"), D("2026-05-18"))
        self.order("hospital", "SZ-001", D("2026-05-15"), [{"sku": "ML-R1000", "qty": 2}])
        self.step(
            D("2026-05-16"),
            "ship SZ-001 before it is paid",
            lambda: self.app.ship_order(self.orders["SZ-001"], D("2026-05-16")),
        )
        self.fulfil("SZ-001", D("2026-05-17"), D("2026-05-18"), D("2026-05-22"))
        done = self.step(
            D("2026-05-20"),
            "draw",
            lambda: self.app.draw_spare_parts(
                self.ids["shanghai"], D("2026-05-20"), "ML-S2400 power supply", 2, "1200"
            ),
        )
        if done:
            self.say("  2026-05-20  east repair centre draws 2 power supplies (1,200.00) (S3)")

    def june(self) -> None:
        self.order(
            "shanghai", "SH-003", D("2026-06-03"),
            [{"sku": "ML-S2400", "qty": 50}, {"sku": "ML-AP300", "qty": 25}],
        )
        self.fulfil("SH-003", D("2026-06-04"), D("2026-06-07"), D("2026-06-10"))
        self.order("beijing", "BJ-003", D("2026-06-08"), [{"sku": "ML-S2400", "qty": 20}])
        self.fulfil("BJ-003", D("2026-06-09"), D("2026-06-12"), D("2026-06-16"))
        self.order("hangzhou", "HZ-003", D("2026-06-09"), [{"sku": "ML-S2400", "qty": 10}])
        self.fulfil("HZ-003", D("2026-06-10"), D("2026-06-13"), D("2026-06-17"))
        order_id = self.order("hangzhou", "HZ-004", D("2026-06-12"), [{"sku": "ML-R1000", "qty": 3}])
        if order_id:
            self.step(D("2026-06-13"), "cancel", lambda: self.app.cancel_order(
                order_id, "customer postponed", D("2026-06-13")))
            self.say("  2026-06-13  HZ-004 cancelled before shipping (O3)")
        self.order("guangzhou", "GZ-003", D("2026-06-15"), [{"sku": "ML-S4800", "qty": 8}])
        self.fulfil("GZ-003", D("2026-06-16"), D("2026-06-18"), D("2026-06-22"))
        self.order("guangzhou", "GZ-004", D("2026-06-25"), [{"sku": "ML-S2400", "qty": 5}])
        gz4 = self.orders.get("GZ-004")
        if gz4:
            self.step(D("2026-06-26"), "pay", partial(self.app.record_payment, gz4, D("2026-06-26"), "31200"))
            self.step(D("2026-06-29"), "ship", partial(self.app.ship_order, gz4, D("2026-06-29")))
            self.say("  2026-06-29  GZ-004 shipped, still on the road at the month's end")
        self.order("nanjing", "NJ-002", D("2026-06-05"), [{"sku": "ML-R1000", "qty": 4}])
        self.fulfil("NJ-002", D("2026-06-06"), D("2026-06-09"), D("2026-06-12"))
        done = self.step(
            D("2026-06-15"),
            "return",
            lambda: self.app.return_order_lines(
                self.orders["SH-002"], D("2026-06-15"), [{"sku": "ML-S4800", "qty": 2}]
            ),
        )
        if done:
            self.say(
                "  2026-06-15  Shanghai Netlink returns 2 × ML-S4800 of SH-002 (May) → −21,000.00 in June"
            )
        self.step(
            D("2026-06-20"),
            "Shanghai Netlink orders on credit before any rating",
            lambda: self.app.place_order(
                self.ids["shanghai"], "SH-004", D("2026-06-20"), "east", "credit",
                [{"sku": "ML-R1000", "qty": 12}],
            ),
        )
        for key, attested in (("shanghai", True), ("beijing", True), ("hangzhou", True)):
            done = self.step(
                D("2026-06-26"),
                f"rate {DEALERS[key][0]}",
                partial(self.app.evaluate_credit, self.ids[key], D("2026-06-26"), attested),
            )
            if done:
                line = done.value
                failed = line.evaluations[-1]["failed_criteria"]
                self.say(
                    f"  2026-06-26  credit rating of {DEALERS[key][0]}: "
                    + (f"eligible, line open with limit {line.limit} (C2, C3)" if not failed
                       else f"not eligible, failed C2 criteria {failed}")
                )
        self.step(
            D("2026-06-27"),
            "Shanghai Netlink orders 20 routers on credit (420,000.00 > limit)",
            lambda: self.app.place_order(
                self.ids["shanghai"], "SH-005", D("2026-06-27"), "east", "credit",
                [{"sku": "ML-R1000", "qty": 20}],
            ),
        )
        self.order("shanghai", "SH-004", D("2026-06-27"), [{"sku": "ML-R1000", "qty": 12}], "credit")
        self.fulfil("SH-004", None, D("2026-06-28"), D("2026-06-29"))
        line = self.app.get_credit_line(self.ids["shanghai"])
        self.say(
            f"  credit line of Shanghai Netlink: limit {line.limit}, reserved {line.reserved_total}, "
            f"receivable {line.receivable_total}, available {line.available}"
        )
        done = self.step(
            D("2026-06-24"),
            "draw",
            lambda: self.app.draw_spare_parts(
                self.ids["shanghai"], D("2026-06-24"), "ML-R1000 line card", 1, "2500"
            ),
        )
        if done:
            self.say("  2026-06-24  east repair centre draws a router line card (2,500.00)")

    def slip_of(self, key: str, period: str) -> dict[str, Any] | None:
        if self.reports is None:
            return None
        slips = self.reports.slips(dealer_id=self.ids[key], period=period)
        return slips[0] if slips else None

    def slips(self) -> None:
        slip = self.slip_of("shanghai", "2026-06")
        if slip is None:
            self.say("  (no slips: the read side is not running)")
            return
        self.say(
            "  slip for Shanghai Netlink, June: "
            + "; ".join(f"line {x['line']} {x['kind']} {x['period']} {x['amount']}" for x in slip["lines"])
        )
        if self.step(D("2026-07-03"), "confirm", partial(
                self.app.confirm_slip, slip["slip_id"], D("2026-07-03"))):
            self.say("  2026-07-03  Shanghai Netlink confirms its June slip")
        slip = self.slip_of("beijing", "2026-06")
        if slip:
            reason = "BJ-003 was held at customs; June should count as reached"
            lines = [{"line": slip["lines"][0]["line"], "reason": reason}]
            if self.step(D("2026-07-04"), "dispute", partial(
                    self.app.dispute_slip, slip["slip_id"], lines, D("2026-07-04"))):
                self.say(f"  2026-07-04  Beijing Datacom disputes line 1 of its June slip: {reason}")
            if self.step(D("2026-07-08"), "reject", partial(
                    self.app.resolve_dispute, slip["slip_id"], 1, False, None,
                    "net sales are counted at delivery (O5); the delivery was on 06-16 and June "
                    "stayed below the agreed 250,000.00", D("2026-07-08"))):
                self.say("  2026-07-08  finance rejects the dispute with its reason (R6)")
        slip = self.slip_of("guangzhou", "2026-06")
        if slip:
            reason = "GZ-004 was delivered in time; the carrier's report came late"
            lines = [{"line": slip["lines"][-1]["line"], "reason": reason}]
            if self.step(D("2026-07-05"), "dispute", partial(
                    self.app.dispute_slip, slip["slip_id"], lines, D("2026-07-05"))):
                self.say(f"  2026-07-05  Guangzhou Linkpro disputes its quarterly line: {reason}")
            if self.step(D("2026-07-09"), "accept", partial(
                    self.app.resolve_dispute, slip["slip_id"], 1, True, "4563.00",
                    "with GZ-004 the quarter reaches 304,200.00 ≥ 300,000: 1.5 %", D("2026-07-09"))):
                self.say("  2026-07-09  finance accepts: a correcting entry of 4,563.00 in July (R6)")

    def july(self) -> None:
        gz4 = self.orders.get("GZ-004")
        if gz4:
            self.step(
                D("2026-07-02"),
                "GZ-004's delivery is reported late, dated 2026-06-30, after June closed",
                partial(self.app.deliver_order, gz4, D("2026-06-30")),
            )
            if self.step(D("2026-07-02"), "deliver", partial(self.app.deliver_order, gz4, D("2026-07-02"))):
                self.say("  2026-07-02  GZ-004 delivery recorded in the open month July instead")
        order_id = self.orders.get("SH-004")
        if order_id:
            self.step(D("2026-07-20"), "pay", lambda: self.app.record_payment(
                order_id, D("2026-07-20"), "252000"))
            line = self.app.get_credit_line(self.ids["shanghai"])
            self.say(
                f"  2026-07-20  SH-004 paid → receivable {line.receivable_total}, "
                f"available {line.available}"
            )

    def close(self, month: str, closed_on: date) -> None:
        done = self.step(closed_on, f"close {month}", lambda: self.app.close_period(month, closed_on))
        if done:
            self.say(f"  {closed_on}  finance closes {month} (O6)")


def _tier(name: str) -> Any:
    from domain.values import Tier

    return Tier(name)
