"""The one door to the write side: an eventsourcing Application holding every aggregate, with a
use-case method per command. Multi-aggregate commands save in one atomic `save`; optimistic-
concurrency conflicts are retried, then refused."""

from __future__ import annotations

import inspect
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import wraps
from typing import Any, Generic, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, OperationalError, RecordConflictError

from domain import limits
from domain.credit import CreditLine, rate_dealer
from domain.dealer import Dealer, IncidentKind
from domain.errors import ConcurrencyError, InvalidInputError, NotFoundError, RuleViolationError
from domain.ids import NATIONAL_POOL
from domain.log_seal import LogSeal
from domain.order import Order, OrderStatus, order_total, price_lines
from domain.period import AccountingCalendar
from domain.policy import Policy, PolicyBook, PolicyVersion
from domain.price_list import PriceList, PriceListVersion, price_items, publication_id
from domain.rebate_slip import RebateSlip
from domain.roster import Roster
from domain.slip_evidence import SlipEvidence
from domain.spare_parts import SparePartsPool
from domain.values import Month, Payment, Tier, to_decimal, to_whole
from infra import integrity, reads, transcodings
from infra.policy_file import DEFAULT_POLICY_FILE, default_policy

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
log = logging.getLogger("channel.ledger")


@dataclass(frozen=True)
class Done(Generic[T]):
    """A command's result: the aggregate it concerns, the last log position it wrote (None when
    it wrote nothing) and whether it created the aggregate."""

    value: T
    position: int | None
    created: bool = False


def _check_value(value: object, where: str, name: str) -> None:
    """O1 for what every command is given, however deep in its arguments: text is stored as it is
    given, so it must fit (limits.text_limit by the field's own `name`; a NUL cannot be stored in
    PostgreSQL text columns of the read models, and other control characters have no business in
    business data), and a business date must lie in the calendar the stores can hold."""
    if isinstance(value, str):
        if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            raise InvalidInputError(f"{where}: control characters are not allowed", field=where)
        limit = limits.text_limit(name)
        if len(value) > limit:
            raise InvalidInputError(
                f"{where}: at most {limit} characters ({len(value)} given)", field=where
            )
    elif isinstance(value, date):
        limits.check_day(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(item, f"{where}.{key}", str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]", name)


def command(method: Callable[P, Done[T]]) -> Callable[P, Done[T]]:
    """Re-run a use case after an optimistic-concurrency conflict: it reloads what it reads, so
    the retry decides on fresh state (D4 under concurrent requests). Before it runs, every
    argument is checked against the structural limits (`_check_value`)."""
    signature = inspect.signature(method)

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Done[T]:
        app = args[0]
        assert isinstance(app, ChannelLedger)
        bound = signature.bind(*args, **kwargs)
        for name, arg in list(bound.arguments.items())[1:]:
            _check_value(arg, name, name)
        for attempt in range(app.command_attempts):
            try:
                return method(*args, **kwargs)
            except (RecordConflictError, OperationalError):
                time.sleep(random.uniform(0, 0.005 * (2 ** min(attempt, 6))))
        raise ConcurrencyError(
            f"{method.__name__}: concurrent updates kept conflicting; try again"
        )

    return wrapper


class ChannelLedger(Application[UUID]):
    """All aggregates in one application, so the store has one totally ordered log."""

    name = "ChannelLedger"
    # The most one save sends (pitfall: a save of several MB of event state never returns on
    # PostgreSQL): a unit of work bigger than this (a close's seal, a close's slips) goes out in
    # several saves, each of at most this many events and bytes of stored state.
    save_max_events = 500
    save_max_bytes = 1_000_000

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        initial_policy: PolicyBook | None = None,
        clock: Callable[[], date] = date.today,
        command_attempts: int = 20,
        open_policy: bool = True,
    ) -> None:
        """`initial_policy` is what an empty store records as its first policy versions (default:
        `policy/default.toml`); a store that has them ignores it. `open_policy=False` for a
        process that only reads the log and must not write to it (relay, audit)."""
        super().__init__(env)
        self.clock = clock
        self.command_attempts = command_attempts
        if open_policy:
            self.open_policy(initial_policy)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register_all(transcoder)

    # --- plumbing ---------------------------------------------------------------------------

    def _save(
        self, *aggregates: Aggregate | None, read: Iterable[Aggregate | None] = ()
    ) -> int | None:
        """Save in one transaction. `read` names aggregates the decision relied on without
        changing them: the insert is refused if any of them moved on meanwhile (infra.recorders),
        and the command is retried on fresh state."""
        expected: dict[UUID, int | None] = {}
        for aggregate in read:
            if aggregate is not None:
                stored = aggregate.version - len(aggregate.pending_events)
                expected[aggregate.id] = stored or None
        if expected:
            recordings = self.save(*aggregates, expected_versions=expected)
        else:
            recordings = self.save(*aggregates)
        return recordings[-1].notification.id if recordings else None

    def _save_bounded(
        self, aggregates: Iterable[Aggregate], read: Iterable[Aggregate | None] = ()
    ) -> int | None:
        """Save in batches of at most `save_max_events` events and `save_max_bytes` of stored
        state (an aggregate's pending events stay in one save), each guarded by `read` as `_save`
        guards; returns the last position written. Taken lazily, so a long stream of aggregates
        is never in memory at once. Not atomic: the caller makes a retry resume (ids that name
        the work, a record of what is done written last)."""
        guard = list(read)
        batch: list[Aggregate] = []
        events = size = 0
        last: int | None = None
        for aggregate in aggregates:
            pending = aggregate.pending_events
            bytes_ = sum(len(self.mapper.to_stored_event(e).state) for e in pending)
            if batch and (events + len(pending) > self.save_max_events
                          or size + bytes_ > self.save_max_bytes):
                last = self._save(*batch, read=guard)
                batch, events, size = [], 0, 0
            batch.append(aggregate)
            events += len(pending)
            size += bytes_
        if batch:
            last = self._save(*batch, read=guard)
        return last

    def _get(self, cls: type[A], aggregate_id: object, what: str) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)  # type: ignore[arg-type]
        except AggregateNotFoundError:
            raise NotFoundError(f"no {what} {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFoundError(f"no {what} {aggregate_id}")
        return aggregate

    def _get_or(self, aggregate_id: object, make: Callable[[], A]) -> A:
        try:
            return self.repository.get(aggregate_id)  # type: ignore[arg-type]
        except AggregateNotFoundError:
            return make()

    @staticmethod
    def _uuid(value: str | UUID, what: str) -> UUID:
        if isinstance(value, UUID):
            return value
        try:
            return UUID(str(value))
        except ValueError:
            raise NotFoundError(f"no {what} {value}") from None

    def _roster(self) -> Roster:
        return self._get_or(Roster.create_id(), Roster)

    def _calendar(self) -> AccountingCalendar:
        return self._get_or(AccountingCalendar.create_id(), AccountingCalendar)

    def _rated_credit_line(self, dealer_id: str) -> CreditLine | None:
        """The dealer's credit line if it was ever rated, else None."""
        try:
            return self._get(CreditLine, CreditLine.create_id(dealer_id), "credit line")
        except NotFoundError:
            return None

    def _credit_line(self, dealer_id: str) -> CreditLine:
        return self._get_or(
            CreditLine.create_id(dealer_id), lambda: CreditLine(dealer_id=dealer_id)
        )

    # --- policy (R4): the versions recorded in the log ------------------------------------------

    def get_policy(self) -> Policy:
        return self._get(Policy, Policy.create_id(), "policy")

    @property
    def policy(self) -> PolicyBook:
        """Every policy version recorded in the log: the only source of the numbers commands use."""
        return self.get_policy().book

    def open_policy(self, initial: PolicyBook | None = None) -> None:
        """Record the first policy versions in a store that has none: `initial` (default:
        `policy/default.toml`). A store made before policy versions were events records them once,
        on its first open, and says so."""
        for _ in range(self.command_attempts):
            try:
                self.get_policy()
                return
            except NotFoundError:
                pass
            book = initial or default_policy()
            head = self.recorder.max_notification_id() or 0
            note = "first policy of a new store"
            if head:
                note = (
                    f"recorded on the first open of a store made before policy versions were "
                    f"events (its log held {head} events)"
                )
                log.warning(
                    "policy: this store holds %d events but no policy version; recording %s "
                    "(versions %s) as its first policy", head, DEFAULT_POLICY_FILE.name,
                    ", ".join(v.id for v in book.versions),
                )
            register = Policy()
            for version in book.versions:
                register.publish(version, note)
            try:
                self.save(register)
                return
            except (RecordConflictError, OperationalError):
                continue  # another process opened the store at the same time: read its policy
        raise ConcurrencyError("open_policy: could not record the first policy version")

    @command
    def publish_policy(self, version: PolicyVersion, note: str = "") -> Done[PolicyVersion]:
        """R4: a new policy version, effective from a day in an open month (O6): closed months
        keep the figures they were closed with. The same version published again writes nothing."""
        limits.check_day(version.effective_from, "effective_from")
        _check_value(version.id, "id", "policy_id")
        calendar = self._calendar()
        calendar.check_open(version.effective_from, "effective_from")
        register = self.get_policy()
        written = register.publish(version, note)
        position = self._save(register, read=(calendar,)) if written else None
        return Done(register.book.by_id(version.id), position, created=written)

    # --- queries ----------------------------------------------------------------------------

    def get_dealer(self, dealer_id: str | UUID) -> Dealer:
        return self._get(Dealer, self._uuid(dealer_id, "dealer"), "dealer")

    def get_order(self, order_id: str | UUID) -> Order:
        return self._get(Order, self._uuid(order_id, "order"), "order")

    def find_order(self, dealer_id: str, client_ref: str) -> Order | None:
        try:
            return self._get(Order, Order.create_id(dealer_id, client_ref), "order")
        except NotFoundError:
            return None

    def get_credit_line(self, dealer_id: str | UUID) -> CreditLine:
        """The dealer's credit line; status `none` if it was never rated."""
        dealer = self.get_dealer(dealer_id)
        return self._credit_line(str(dealer.id))

    def get_pool(self, pool: str) -> SparePartsPool:
        return self._get(SparePartsPool, SparePartsPool.create_id(pool), "spare-parts pool")

    def find_pool(self, pool: str) -> SparePartsPool | None:
        try:
            return self.get_pool(pool)
        except NotFoundError:
            return None

    def get_roster(self) -> Roster:
        return self._roster()

    def get_calendar(self) -> AccountingCalendar:
        return self._calendar()

    def get_price_list(self) -> PriceList:
        return self._get_or(PriceList.create_id(), PriceList)

    def price_list_on(self, day: date) -> PriceListVersion | None:
        return self.get_price_list().version_on(day)

    # --- dealers (D) ------------------------------------------------------------------------

    @command
    def register_dealer(
        self,
        name: str,
        region: str,
        tier: str,
        salesperson: str,
        contact: str,
        registered_on: date | None = None,
    ) -> Done[Dealer]:
        for field_name, value in (
            ("name", name), ("region", region), ("salesperson", salesperson), ("contact", contact)
        ):
            if not str(value).strip():
                raise InvalidInputError(f"{field_name}: must not be empty", field=field_name)
        dealer = Dealer(
            name=name.strip(),
            region=region.strip(),
            tier=Tier.parse(tier).value,
            salesperson=salesperson.strip(),
            contact=contact.strip(),
            registered_on=registered_on or self.clock(),
        )
        return Done(dealer, self._save(dealer), created=True)

    @command
    def sign_draft_agreement(self, dealer_id: str, signed_on: date | None = None) -> Done[Dealer]:
        dealer = self.get_dealer(dealer_id)
        dealer.sign_draft_agreement(signed_on or self.clock())
        return Done(dealer, self._save(dealer))

    @command
    def submit_forecast(
        self, dealer_id: str, months: Iterable[tuple[str | Month, Decimal | str]]
    ) -> Done[Dealer]:
        dealer = self.get_dealer(dealer_id)
        given = list(months)
        if len(given) > limits.MAX_FORECAST_MONTHS:
            raise InvalidInputError(
                f"months: a forecast covers at most {limits.MAX_FORECAST_MONTHS} months",
                field="months",
            )
        policy = self.policy.in_force(dealer.draft_signed_on or dealer.registered_on)
        parsed = []
        for index, (m, a) in enumerate(given):
            month = m if isinstance(m, Month) else Month.parse(m, f"months[{index}].month")
            limits.check_month(month, f"months[{index}].month")
            amount = self._monthly_amount(a, f"months[{index}].amount", policy)
            parsed.append((month, amount))
        dealer.submit_forecast(parsed, policy.forecast_months)
        return Done(dealer, self._save(dealer))

    @command
    def sign_formal_agreement(
        self,
        dealer_id: str,
        signed_on: date | None,
        monthly_amount: Decimal | str,
        term_months: int,
    ) -> Done[Dealer]:
        """D2 + D4: the agreement takes the tier's seat, refused when all are taken."""
        dealer = self.get_dealer(dealer_id)
        signed_on = signed_on or self.clock()
        policy = self.policy.in_force(signed_on)
        term = to_whole(term_months, "term_months")
        if term > policy.max_term_months:
            raise RuleViolationError(
                "O1", f"term_months: at most {policy.max_term_months} months ({term} given)",
                field="term_months",
            )
        dealer.sign_formal_agreement(
            signed_on, self._monthly_amount(monthly_amount, "monthly_amount", policy), term
        )
        roster = self._roster()
        limit = policy.seat_limit(dealer.tier)
        roster.take_seat(str(dealer.id), dealer.tier, limit, signed_on)
        return Done(dealer, self._save(dealer, roster))

    @staticmethod
    def _monthly_amount(value: object, field: str, policy: PolicyVersion) -> Decimal:
        """D2: a forecast or agreed monthly amount within the policy's bound (O1: the credit limit
        of C3 is this amount times the credit multiple)."""
        amount = to_decimal(value, field)
        if amount > policy.max_monthly_amount:
            raise RuleViolationError(
                "O1", f"{field}: {amount} is above the highest monthly amount "
                f"{policy.max_monthly_amount}", field=field,
            )
        return amount

    @command
    def change_tier(
        self, dealer_id: str, tier: str, reason: str, effective_on: date | None = None
    ) -> Done[Dealer]:
        """D6: a tier change moves the dealer's seat and obeys D4."""
        dealer = self.get_dealer(dealer_id)
        effective_on = effective_on or self.clock()
        new_tier = Tier.parse(tier)
        was_repair_centre = dealer.repair_centre_since is not None
        dealer.change_tier(new_tier, reason, effective_on)
        roster = self._roster()
        if dealer.holds_seat:
            roster.release_seat(str(dealer.id), effective_on)
            limit = self.policy.in_force(effective_on).seat_limit(new_tier)
            roster.take_seat(str(dealer.id), new_tier, limit, effective_on)
        pool = None
        if was_repair_centre and new_tier != Tier.A:
            # S1: a repair centre is a tier-A dealer; leaving tier A frees the region's place.
            roster.release_repair_centre(str(dealer.id), effective_on)
            pool = self.get_pool(str(dealer.id))
            pool.close(effective_on, f"dealer left tier A ({reason})")
        return Done(dealer, self._save(dealer, roster, pool))

    @command
    def reassign_salesperson(
        self, dealer_id: str, salesperson: str, effective_on: date | None = None
    ) -> Done[Dealer]:
        dealer = self.get_dealer(dealer_id)
        dealer.reassign(salesperson.strip(), effective_on or self.clock())
        return Done(dealer, self._save(dealer))

    @command
    def record_incident(
        self, dealer_id: str, kind: str, occurred_on: date | None = None, note: str = ""
    ) -> Done[Dealer]:
        """D7 + C4: the incident is recorded and suspends an open credit line at once."""
        dealer = self.get_dealer(dealer_id)
        try:
            incident_kind = IncidentKind(kind)
        except ValueError:
            raise InvalidInputError(
                "kind: one of violation, bad_debt, dispute", field="kind"
            ) from None
        occurred_on = occurred_on or self.clock()
        if len(dealer.incidents) >= limits.MAX_INCIDENTS:
            raise RuleViolationError(
                "O1", f"the dealer's record holds {limits.MAX_INCIDENTS} incidents, the most a "
                "credit evaluation (C2) can carry", field="kind",
            )
        dealer.record_incident(incident_kind, occurred_on, note)
        credit = self._rated_credit_line(str(dealer.id))
        if credit is not None:
            credit.suspend(occurred_on, f"{incident_kind.value}: {note}".strip(": "))
        return Done(dealer, self._save(dealer, credit))

    @command
    def terminate_dealer(
        self, dealer_id: str, terminated_on: date | None = None, reason: str = ""
    ) -> Done[Dealer]:
        """D4/D7: termination frees the seat and the region's repair centre, closes the pool."""
        dealer = self.get_dealer(dealer_id)
        terminated_on = terminated_on or self.clock()
        dealer.terminate(terminated_on, reason)
        roster = self._roster()
        roster.release_seat(str(dealer.id), terminated_on)
        roster.release_repair_centre(str(dealer.id), terminated_on)
        pool = None
        if dealer.repair_centre_since is not None:
            pool = self.get_pool(str(dealer.id))
            pool.close(terminated_on, "dealer terminated")
        credit = self._rated_credit_line(str(dealer.id))
        if credit is not None:
            credit.suspend(terminated_on, "dealer terminated")
        return Done(dealer, self._save(dealer, roster, pool, credit))

    @command
    def authorize_repair_centre(
        self, dealer_id: str, signed_on: date | None = None
    ) -> Done[SparePartsPool]:
        """S1: a tier-A dealer, one per region; opens the dealer's spare-parts pool."""
        dealer = self.get_dealer(dealer_id)
        signed_on = signed_on or self.clock()
        if self.find_pool(str(dealer.id)) is not None:
            raise RuleViolationError(
                "S1", "this dealer's spare-parts pool was closed when it left tier A; it stays closed"
            )
        dealer.authorize_repair_centre(signed_on)
        roster = self._roster()
        roster.appoint_repair_centre(dealer.region, str(dealer.id), signed_on)
        pool = SparePartsPool(pool=str(dealer.id), region=dealer.region, opened_on=signed_on)
        return Done(pool, self._save(dealer, roster, pool), created=True)

    # --- prices (P) ---------------------------------------------------------------------------

    @command
    def publish_price_list(
        self, effective_from: date, items: list[dict[str, Any]]
    ) -> Done[PriceListVersion]:
        """P1/P2: a new version. One of more than `limits.PRICE_ITEMS_PER_EVENT` items is recorded
        part by part, a save each, and is in force only once its last part is recorded; a retry
        after a conflict records only the parts still missing."""
        if not isinstance(items, list) or len(items) > limits.MAX_PRICE_ITEMS:
            raise InvalidInputError(
                f"items: a price-list version holds at most {limits.MAX_PRICE_ITEMS} items",
                field="items",
            )
        policy = self.policy.in_force(effective_from)
        parsed = [
            {
                "sku": item.get("sku", ""),
                "name": item.get("name", ""),
                "list_price": limits.to_money(
                    item.get("list_price"), f"items[{i}].list_price", signed=True
                ),
                "floor_price": limits.to_money(
                    item.get("floor_price"), f"items[{i}].floor_price", signed=True
                ),
            }
            for i, item in enumerate(items)
        ]
        records = price_items(parsed, policy.discounts, policy.max_list_price)
        size = limits.PRICE_ITEMS_PER_EVENT
        parts = [records[i:i + size] for i in range(0, len(records), size)]
        price_list = self.get_price_list()
        if len(parts) == 1:
            price_list.publish(effective_from, records, policy.id)
        else:
            publication = publication_id(effective_from, policy.id, records)
            for number, part in enumerate(parts[:-1]):
                if price_list.stage(publication, number, part):
                    self._save(price_list)
            price_list.publish_staged(
                effective_from, publication, len(parts) - 1, parts[-1], policy.id
            )
        position = self._save(price_list)
        version = price_list.version_on(effective_from)
        assert version is not None
        return Done(version, position, created=True)

    # --- orders (O, P3, P4, D9) -------------------------------------------------------------

    def _on_confirmed(self, order: Order, dealer: Dealer, credit: CreditLine | None) -> None:
        """D3 (agreement takes effect), C2(2) (order value) and C3 (reservation)."""
        policy = self.policy.in_force(order.order_date)
        dealer.take_effect(str(order.id), order.order_date)
        dealer.count_order_value(
            str(order.id), order.order_date, order.total, policy.qualifying_months
        )
        if credit is not None:
            credit.reserve(str(order.id), order.total, order.order_date)

    @command
    def place_order(
        self,
        dealer_id: str,
        client_ref: str,
        order_date: date | None,
        ship_to_region: str,
        payment: str,
        lines: list[dict[str, Any]],
    ) -> Done[Order]:
        dealer = self.get_dealer(dealer_id)
        dealer_key = str(dealer.id)
        if not str(client_ref).strip():
            raise InvalidInputError("client_ref: must not be empty", field="client_ref")
        order_date = order_date or self.clock()
        try:
            pay = Payment(payment)
        except ValueError:
            raise InvalidInputError("payment: one of prepaid, credit", field="payment") from None
        if not str(ship_to_region).strip():
            raise InvalidInputError("ship_to_region: must not be empty", field="ship_to_region")
        existing = self.find_order(dealer_key, client_ref)
        if existing is not None:
            if not existing.same_request(order_date, ship_to_region, pay.value, lines):
                raise RuleViolationError(
                    "O1",
                    f"client_ref {client_ref!r} already names another order of this dealer",
                    field="client_ref",
                )
            return Done(existing, None, created=False)

        dealer.check_may_order(order_date)
        credit: CreditLine | None = None
        if pay == Payment.CREDIT:
            if dealer.tier != Tier.A:
                raise RuleViolationError("O4", "only tier-A dealers order on credit (C1)")
            credit = self._credit_line(dealer_key)
        price_list = self.get_price_list()
        version = price_list.version_on(order_date)
        if version is None:
            raise RuleViolationError(
                "P4", f"no price list is in force on {order_date}", field="order_date"
            )
        priced, approvals = price_lines(
            lines, version, dealer.tier, self.policy.in_force(order_date).orders
        )
        if ship_to_region != dealer.region:
            approvals.append(
                {
                    "rule": "D9",
                    "reason": f"shipped to {ship_to_region}, outside the dealer's region "
                    f"{dealer.region}",
                }
            )
        total = order_total(priced)
        order = Order(
            dealer_id=dealer_key,
            client_ref=client_ref,
            order_date=order_date,
            ship_to_region=ship_to_region,
            payment=pay.value,
            tier=dealer.tier.value,
            lines=priced,
            total=total,
            price_list_version=version.number,
            approvals=approvals,
        )
        if credit is not None:
            credit.check_can_reserve(total, order_date)
        if not approvals:
            order.confirm(order_date)
            self._on_confirmed(order, dealer, credit)
        position = self._save(
            order,
            dealer if dealer.pending_events else None,
            credit if credit is not None and credit.pending_events else None,
            read=(dealer, price_list),
        )
        return Done(order, position, created=True)

    @command
    def decide_order(
        self, order_id: str, approve: bool, note: str = "", decided_on: date | None = None
    ) -> Done[Order]:
        """P3/D9: a manager's decision; approval confirms (and reserves credit)."""
        order = self.get_order(order_id)
        decided_on = decided_on or max(self.clock(), order.order_date)
        order.decide(approve, note, decided_on)
        dealer = self.get_dealer(order.dealer_id)
        credit = None
        if approve:
            dealer.check_may_order(order.order_date)
            if order.payment == Payment.CREDIT:
                credit = self._credit_line(order.dealer_id)
            self._on_confirmed(order, dealer, credit)
        return Done(
            order,
            self._save(
                order,
                dealer if dealer.pending_events else None,
                credit if credit is not None and credit.pending_events else None,
                read=(dealer,),
            ),
        )

    @command
    def cancel_order(
        self, order_id: str, reason: str = "", cancelled_on: date | None = None
    ) -> Done[Order]:
        order = self.get_order(order_id)
        cancelled_on = cancelled_on or max(self.clock(), order.order_date)
        was_confirmed = order.status == OrderStatus.CONFIRMED
        order.cancel(reason, cancelled_on)
        dealer = credit = None
        if was_confirmed:
            dealer = self.get_dealer(order.dealer_id)
            dealer.withdraw_order_value(str(order.id))
            if order.payment == Payment.CREDIT:
                credit = self._credit_line(order.dealer_id)
                credit.settle(str(order.id), order.total, cancelled_on, "cancelled")
        return Done(
            order,
            self._save(
                order,
                dealer if dealer is not None and dealer.pending_events else None,
                credit if credit is not None and credit.pending_events else None,
            ),
        )

    @command
    def ship_order(self, order_id: str, shipped_on: date | None = None) -> Done[Order]:
        order = self.get_order(order_id)
        order.ship(shipped_on or self.clock())
        return Done(order, self._save(order))

    @command
    def deliver_order(self, order_id: str, delivered_on: date | None = None) -> Done[Order]:
        """O5/O6: deliveries count in an open month; C3: the reservation becomes a receivable."""
        order = self.get_order(order_id)
        delivered_on = delivered_on or self.clock()
        calendar = self._calendar()
        calendar.check_open(delivered_on, "delivered_on")
        order.deliver(delivered_on)
        credit = None
        if order.payment == Payment.CREDIT:
            credit = self._credit_line(order.dealer_id)
            overdue_days = self.policy.in_force(delivered_on).overdue_days
            credit.book_receivable(str(order.id), delivered_on, overdue_days)
        return Done(
            order,
            self._save(
                order,
                credit if credit is not None and credit.pending_events else None,
                read=(calendar,),
            ),
        )

    @command
    def record_payment(
        self, order_id: str, paid_on: date | None, amount: Decimal | str
    ) -> Done[Order]:
        order = self.get_order(order_id)
        paid_on = paid_on or self.clock()
        calendar = self._calendar()
        calendar.check_open(paid_on, "paid_on")
        value = to_decimal(amount, "amount")
        order.pay(paid_on, value)
        credit = None
        if order.payment == Payment.CREDIT:
            credit = self._credit_line(order.dealer_id)
            credit.settle(str(order.id), value, paid_on, "payment")
        return Done(
            order,
            self._save(
                order,
                credit if credit is not None and credit.pending_events else None,
                read=(calendar,),
            ),
        )

    @command
    def return_order_lines(
        self, order_id: str, returned_on: date | None, lines: list[dict[str, Any]]
    ) -> Done[Order]:
        order = self.get_order(order_id)
        returned_on = returned_on or self.clock()
        calendar = self._calendar()
        calendar.check_open(returned_on, "returned_on")
        outstanding_before = order.outstanding
        max_lines = self.policy.in_force(order.order_date).orders.max_lines
        value = order.return_lines(returned_on, lines, max_lines)
        credit = None
        if order.payment == Payment.CREDIT and outstanding_before > 0:
            credit = self._credit_line(order.dealer_id)
            credit.settle(str(order.id), min(value, outstanding_before), returned_on, "return")
        return Done(
            order,
            self._save(
                order,
                credit if credit is not None and credit.pending_events else None,
                read=(calendar,),
            ),
        )

    # --- credit (C) ---------------------------------------------------------------------------

    @command
    def evaluate_credit(
        self, dealer_id: str, as_of: date | None = None, attested: bool = False
    ) -> Done[CreditLine]:
        """C2: rate the dealer; the evaluation records which criteria failed. C3 opens the line."""
        dealer = self.get_dealer(dealer_id)
        dealer.check_not_terminated("C2")
        as_of = as_of or self.clock()
        policy = self.policy.in_force(as_of)
        failed, details = rate_dealer(dealer, as_of, attested, policy)
        credit = self._credit_line(str(dealer.id))
        amount = dealer.agreement["monthly_amount"] if dealer.agreement else Decimal(0)
        credit.evaluate(as_of, failed, details, amount, policy)
        return Done(credit, self._save(credit, read=(dealer,)))

    # --- spare parts (S) ------------------------------------------------------------------------

    @command
    def draw_spare_parts(
        self,
        pool: str,
        drawn_on: date | None,
        part: str,
        qty: int,
        value: Decimal | str,
    ) -> Done[SparePartsPool]:
        """S3: a draw at cost value within the pool's balance."""
        pool_key = pool if pool == NATIONAL_POOL else str(self.get_dealer(pool).id)
        target = self.get_pool(pool_key)
        drawn_on = drawn_on or self.clock()
        units = to_whole(qty, "qty")
        max_qty = self.policy.in_force(drawn_on).max_draw_qty
        if units > max_qty:
            raise RuleViolationError(
                "O1", f"qty: a draw holds at most {max_qty} units ({units} given)", field="qty"
            )
        target.draw(drawn_on, part, units, limits.to_money(value, "value", signed=True))
        return Done(target, self._save(target))

    @command
    def allocate_spare_parts(
        self,
        pool: str,
        region: str,
        month: str,
        basis: Decimal,
        amount: Decimal,
        policy_version: str,
    ) -> Done[SparePartsPool]:
        """S2: one allocation per pool and month (the national pool opens on its first one)."""
        key = SparePartsPool.create_id(pool)
        target = self._get_or(
            key,
            lambda: SparePartsPool(
                pool=pool, region=region, opened_on=Month.parse(month).first_day
            ),
        )
        target.allocate(month, basis, amount, policy_version)
        position = self._save(target) if target.pending_events else None
        return Done(target, position)

    # --- periods (O6) ---------------------------------------------------------------------------

    @command
    def close_period(self, month: str | Month, closed_on: date | None = None) -> Done[AccountingCalendar]:
        """O6: close a month; the close records the log range it covers and the chain hash. Its
        seal (each event's digest, which lets the audit name an altered event) goes out first, in
        bounded saves, whatever the size of the month; the MonthClosed event, saved last,
        authenticates it through the chain hash."""
        month = month if isinstance(month, Month) else Month.parse(month)
        calendar = self._calendar()
        closed_on = closed_on or self.clock()
        calendar.check_can_close(month, closed_on)  # before reading the log it would seal
        covers_to = self.recorder.max_notification_id() or 0
        sealer = integrity.Sealer(calendar.last_hash)
        covered = integrity.read_range(self.recorder, calendar.last_position + 1, covers_to)
        seals: Iterator[Aggregate] = (
            LogSeal.of_close(str(month), covers_to, i, part.positions, part.digests)
            for i, part in enumerate(sealer.parts(covered))
        )
        # Each batch is refused once the calendar has moved (another close got in): then the
        # command runs again on fresh state and is refused as a close of a closed month. Parts
        # an interrupted attempt left are named after its covers_to: a retry covers them (they
        # are events like any other) and names its own parts after its own covers_to.
        self._save_bounded(seals, read=(calendar,))
        calendar.close(month, closed_on, covers_to, sealer.chain_hash, seal_parts=sealer.count)
        # The close is saved last, so Done.position is the MonthClosed event's position.
        return Done(calendar, self._save(calendar))

    # --- rebate slips (R5, R6) -------------------------------------------------------------------

    def get_slip(self, slip_id: str | UUID) -> RebateSlip:
        return self._get(RebateSlip, self._uuid(slip_id, "rebate slip"), "rebate slip")

    @command
    def issue_slips(
        self, period: str, issued_on: date, close_position: int, slips: list[dict[str, Any]]
    ) -> Done[list[RebateSlip]]:
        """R5: the close's process manager issues one slip per dealer ({dealer_id, lines, and the
        log positions of the events behind it as `evidence`}), in bounded saves. A slip that
        exists already is left as it is (replay, restart, a crash between two saves), and so is
        an evidence part: a slip's evidence is fixed by the close's position."""
        Month.parse(period, "period")
        ids = {str(s["dealer_id"]): RebateSlip.create_id(str(s["dealer_id"]), period)
               for s in slips}
        stored = reads.existing(self.recorder, ids.values())  # one statement, not one per dealer
        todo = [s for s in slips if ids[str(s["dealer_id"])] not in stored]
        # Audit: the digests of the stored events behind every slip (R7), read in one pass for
        # all of them rather than a query chain per dealer.
        digests = integrity.digests_at(
            self.recorder, (p for s in todo for p in s.get("evidence", ()))
        )
        evidence = {
            str(s["dealer_id"]): integrity.evidence_of([
                (p, digests[p]) for p in sorted({int(p) for p in s.get("evidence", ())})
                if p in digests
            ])
            for s in todo
        }
        parts_stored = reads.existing(self.recorder, (
            SlipEvidence.create_id(str(ids[dealer_id]), k)
            for dealer_id, sealed in evidence.items() for k in range(len(sealed.parts))
        ))
        new: list[RebateSlip] = []

        def aggregates() -> Iterator[Aggregate]:
            for slip in todo:
                dealer_id = str(slip["dealer_id"])
                slip_id = str(ids[dealer_id])
                sealed = evidence[dealer_id]
                for k, part in enumerate(sealed.parts):
                    if SlipEvidence.create_id(slip_id, k) not in parts_stored:
                        yield SlipEvidence(
                            slip_id=slip_id, dealer_id=dealer_id, part=k,
                            parts=len(sealed.parts), positions=part.positions,
                            digests=part.digests,
                        )
                issued = RebateSlip(
                    dealer_id=dealer_id,
                    period=period,
                    issued_on=issued_on,
                    close_position=close_position,
                    lines=list(slip["lines"]),
                    evidence_positions=sealed.inline.positions,
                    evidence_digests=sealed.inline.digests,
                    evidence_hash=sealed.hash,
                )
                new.append(issued)
                yield issued

        # A slip's parts precede it in the log; an interrupted run leaves no slip without them.
        position = self._save_bounded(aggregates())
        return Done(new, position, created=bool(new))

    @command
    def confirm_slip(self, slip_id: str, confirmed_on: date | None = None) -> Done[RebateSlip]:
        slip = self.get_slip(slip_id)
        slip.confirm(confirmed_on or max(self.clock(), slip.issued_on))
        return Done(slip, self._save(slip))

    @command
    def dispute_slip(
        self, slip_id: str, lines: list[dict[str, Any]], disputed_on: date | None = None
    ) -> Done[RebateSlip]:
        slip = self.get_slip(slip_id)
        slip.dispute(lines, disputed_on or max(self.clock(), slip.issued_on))
        return Done(slip, self._save(slip))

    @command
    def resolve_dispute(
        self,
        slip_id: str,
        dispute: int,
        accept: bool,
        amount: Decimal | str | None = None,
        note: str = "",
        resolved_on: date | None = None,
    ) -> Done[RebateSlip]:
        """R6: finance accepts (a correcting entry in the open month of `resolved_on`, O6) or
        rejects with a reason."""
        slip = self.get_slip(slip_id)
        resolved_on = resolved_on or max(self.clock(), slip.issued_on)
        calendar = self._calendar()
        calendar.check_open(resolved_on, "resolved_on")
        month = Month.of(resolved_on)
        slip.resolve(
            int(dispute),
            bool(accept),
            None if amount is None else limits.to_money(amount, "amount", signed=True),
            note,
            resolved_on,
            str(month),
            self.policy.in_force(month.first_day).id,
        )
        # The correction lands in an open month: refused if a close slipped in meanwhile (O6).
        return Done(slip, self._save(slip, read=[calendar]))

    # --- spare parts, the close's allocation (S2) --------------------------------------------------

    @command
    def allocate_spare_parts_month(
        self, month: str, allocations: list[dict[str, Any]]
    ) -> Done[list[SparePartsPool]]:
        """S2: allocate every pool its share of a closed month ({pool, region, basis, amount,
        policy_version}) in bounded saves; pools already allocated for the month are left alone,
        so a run interrupted between two saves is resumed by running it again."""
        first_day = Month.parse(month).first_day
        changed: list[SparePartsPool] = []
        for item in allocations:
            target = self._pool_or_open(str(item["pool"]), str(item["region"]), first_day)
            target.allocate(month, item["basis"], item["amount"], str(item["policy_version"]))
            if target.pending_events:
                changed.append(target)
        return Done(changed, self._save_bounded(changed))

    def _pool_or_open(self, pool: str, region: str, opened_on: date) -> SparePartsPool:
        try:
            return self._get(SparePartsPool, SparePartsPool.create_id(pool), "spare-parts pool")
        except NotFoundError:
            return SparePartsPool(pool=pool, region=region, opened_on=opened_on)
