"""The plumbing every family's commands share: `Done`, the `command` decorator (argument limits,
retries) and `LedgerBase`, the Application's saves and the readers more than one family uses."""

from __future__ import annotations

import inspect
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import wraps
from typing import Any, Generic, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, OperationalError, RecordConflictError

from domain import limits
from domain.credit import CreditLine
from domain.dealer import Dealer
from domain.errors import ConcurrencyError, InvalidInputError, NotFoundError
from domain.period import AccountingCalendar
from domain.policy import Policy, PolicyBook
from domain.price_list import PriceList
from domain.spare_parts import SparePartsPool
from infra import transcodings

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Done(Generic[T]):
    """A command's result: the aggregate it concerns, the last log position it wrote (None when
    it wrote nothing) and whether it created the aggregate."""

    value: T
    position: int | None
    created: bool = False


def check_value(value: object, where: str, name: str) -> None:
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
            check_value(item, f"{where}.{key}", str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_value(item, f"{where}[{index}]", name)


def check_filled(value: str, field: str) -> None:
    """A text the command cannot do without (a name, a client reference) must hold more than
    blanks."""
    if not str(value).strip():
        raise InvalidInputError(f"{field}: must not be empty", field=field)


def parse_choice(kind: type[E], value: str, field: str) -> E:
    """One of a closed set of values (payment terms, incident kinds), refused naming them all."""
    try:
        return kind(value)
    except ValueError:
        raise InvalidInputError(f"{field}: one of {', '.join(kind)}", field=field) from None


def command(method: Callable[P, Done[T]]) -> Callable[P, Done[T]]:
    """Re-run a use case after an optimistic-concurrency conflict: it reloads what it reads, so
    the retry decides on fresh state (D4 under concurrent requests). Before it runs, every
    argument is checked against the structural limits (`check_value`).

    The first attempt loads what the cache holds as it is, unread in the store (`_find`): its save
    checks every such version in the save's own transaction, so a decision on a stale copy is
    refused there and taken again on fresh loads. An attempt on unchecked loads that saves
    nothing, or fails before its save, is taken again on fresh loads too: no answer and no refusal
    rests on an unchecked load."""
    signature = inspect.signature(method)

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Done[T]:
        app = args[0]
        assert isinstance(app, LedgerBase)
        bound = signature.bind(*args, **kwargs)
        for name, arg in list(bound.arguments.items())[1:]:
            check_value(arg, name, name)
        loads = app._loads
        if loads.running:  # a command run by another: it shares the outer command's attempt
            return method(*args, **kwargs)
        optimistic = app.optimistic_loads and app.repository.cache is not None
        try:
            for attempt in range(app.command_attempts):
                loads.start(optimistic=optimistic)
                try:
                    result = method(*args, **kwargs)
                except (RecordConflictError, OperationalError):
                    if not optimistic:  # a stale cached copy is reloaded at once
                        time.sleep(random.uniform(0, 0.005 * (2 ** min(attempt, 6))))
                    optimistic = False
                    continue
                except Exception:
                    if not loads.unchecked:
                        raise
                else:
                    if not loads.unchecked:
                        return result
                optimistic = False
        finally:
            loads.stop()
        raise ConcurrencyError(
            f"{method.__name__}: concurrent updates kept conflicting; try again"
        )

    return wrapper


class _Loads(threading.local):
    """One thread's command attempt: whether it runs, and the versions of the aggregates it took
    from the cache without reading the store (None: every load reads the store)."""

    running = False
    unchecked: dict[UUID, int | None] | None = None

    def start(self, *, optimistic: bool) -> None:
        self.running = True
        self.unchecked = {} if optimistic else None

    def stop(self) -> None:
        self.running = False
        self.unchecked = None


class LedgerBase(Application[UUID]):
    """What the commands of every family stand on: bounded, guarded saves of several aggregates
    in one transaction, typed loads, and the readers several families share."""

    # The most one save sends (pitfall: a save of several MB of event state never returns on
    # PostgreSQL): a unit of work bigger than this (a close's seal, a close's slips) goes out in
    # several saves, each of at most this many events and bytes of stored state.
    save_max_events = 500
    save_max_bytes = 1_000_000

    # Pitfall 9: a long-lived aggregate (credit line, price list, roster, calendar, pools, the
    # policy) would cost its whole history on every load. The library's cache keeps each loaded
    # aggregate and fast-forwards it by the events stored since (one indexed read), so a load
    # costs what changed, whoever wrote it; a command gets a copy, a read-only load the cached
    # object itself (`_find(..., copy=False)`). The saves stay guarded by version as before.
    env = {"AGGREGATE_CACHE_MAXSIZE": "2000", "AGGREGATE_CACHE_FASTFORWARD": "y"}
    # A command's first attempt takes cached aggregates as they are (see `command`); after a save
    # the cache holds what was saved, so the next command's first attempt is usually right.
    optimistic_loads = True

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Callable[[], date] = date.today,
        command_attempts: int = 20,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.command_attempts = command_attempts
        self._loads = _Loads()
        self._cache_lock = threading.Lock()
        self._policy_book: tuple[Policy, int, PolicyBook] | None = None

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register_all(transcoder)

    # --- saves --------------------------------------------------------------------------------

    @staticmethod
    def _changed(aggregates: Iterable[Aggregate | None]) -> Iterator[Aggregate]:
        """The aggregates a command changed: a command names every aggregate it may change, and
        those it left alone (or never loaded, None) are not saved."""
        return (a for a in aggregates if a is not None and a.pending_events)

    def _save(
        self, *aggregates: Aggregate | None, read: Iterable[Aggregate | None] = ()
    ) -> int | None:
        """Save in one transaction what changed (None when nothing did). `read` names aggregates
        the decision relied on without changing them: the insert is refused if any of them moved
        on meanwhile (infra.recorders), and the command is retried on fresh state. So are the
        aggregates the attempt took from the cache unchecked; loads after this save read the
        store."""
        changed = list(self._changed(aggregates))
        if not changed:
            return None
        # The version each read aggregate had when loaded (None: not stored yet).
        expected: dict[UUID, int | None] = {
            a.id: (a.version - len(a.pending_events)) or None for a in read if a is not None
        }
        unchecked = self._loads.unchecked
        if unchecked:
            expected = {**unchecked, **expected}
        recordings = self.save(*changed, expected_versions=expected)
        if unchecked is not None:
            self._loads.unchecked = None
        return recordings[-1].notification.id if recordings else None

    def save(self, *objs: Any, **kwargs: Any) -> list[Any]:
        """The library's save; then the cache holds the saved aggregates (a newer version than it
        had), so that the next command's first attempt starts from them."""
        recordings = super().save(*objs, **kwargs)
        cache = self.repository.cache
        if cache is not None and recordings:
            with self._cache_lock:
                for obj in objs:
                    if isinstance(obj, Aggregate) and not obj.pending_events:
                        cached = self._cached(obj.id)
                        if cached is None or cached.version < obj.version:
                            cache.put(obj.id, obj)
        return recordings

    def _cached(self, aggregate_id: UUID) -> Aggregate | None:
        cache = self.repository.cache
        try:
            found = cache.get(aggregate_id) if cache is not None else None
        except KeyError:
            return None
        return found if isinstance(found, Aggregate) else None

    def _save_bounded(
        self, aggregates: Iterable[Aggregate | None], read: Iterable[Aggregate | None] = ()
    ) -> int | None:
        """Save what changed in batches of at most `save_max_events` events and `save_max_bytes`
        of stored state (an aggregate's pending events stay in one save), each guarded by `read`
        as `_save` guards; returns the last position written. Taken lazily, so a long stream of
        aggregates is never in memory at once. Not atomic: the caller makes a retry resume (ids
        that name the work, a record of what is done written last)."""
        guard = list(read)
        batch: list[Aggregate] = []
        events = size = 0
        last: int | None = None
        for aggregate in self._changed(aggregates):
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

    # --- loads --------------------------------------------------------------------------------

    def _find(
        self, cls: type[A], aggregate_id: UUID, *, copy: bool = True, new: bool = False
    ) -> A | None:
        """`copy=False` for an aggregate the caller only reads (never changes nor saves): the
        cache's own object, without the deep copy a command needs. In a command's first attempt
        (see `command`) a cached aggregate is taken as it is and its version left for the save
        to check; `new=True` names an aggregate the command expects not to exist yet, taken as
        absent when not cached (the save checks that too)."""
        unchecked = self._loads.unchecked
        if unchecked is not None:
            cached = self._cached(aggregate_id)
            if cached is not None and not cached.pending_events:
                unchecked.setdefault(aggregate_id, cached.version)
                found = deepcopy(cached) if copy else cached
                return found if isinstance(found, cls) else None
            if cached is None and new:
                unchecked.setdefault(aggregate_id, None)
                return None
        try:
            aggregate: object = self.repository.get(aggregate_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _get(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        found = self._find(cls, aggregate_id)
        if found is None:
            raise NotFoundError(f"no {what} {aggregate_id}")
        return found

    def _get_or(self, cls: type[A], aggregate_id: UUID, make: Callable[[], A]) -> A:
        """The aggregate, or a new one from `make` (saved with the command that changes it)."""
        found = self._find(cls, aggregate_id)
        return make() if found is None else found

    @staticmethod
    def _uuid(value: str | UUID, what: str) -> UUID:
        if isinstance(value, UUID):
            return value
        try:
            return UUID(str(value))
        except ValueError:
            raise NotFoundError(f"no {what} {value}") from None

    # --- readers several families share -------------------------------------------------------

    def get_policy(self) -> Policy:
        return self._get(Policy, Policy.create_id(), "policy")

    @property
    def policy(self) -> PolicyBook:
        """Every policy version recorded in the log: the only source of the numbers commands use."""
        found = self._find(Policy, Policy.create_id(), copy=False)
        if found is None:
            raise NotFoundError(f"no policy {Policy.create_id()}")
        # The book is built once per loaded object and version of the aggregate.
        known = self._policy_book
        if known is None or known[0] is not found or known[1] != found.version:
            known = self._policy_book = (found, found.version, found.book)
        return known[2]

    def get_dealer(self, dealer_id: str | UUID) -> Dealer:
        return self._get(Dealer, self._uuid(dealer_id, "dealer"), "dealer")

    def get_price_list(self) -> PriceList:
        return self._get_or(PriceList, PriceList.create_id(), PriceList)

    def read_price_list(self) -> PriceList:
        """The price list for reading only (an order's prices, P4): not copied from the cache, so
        a version of 10,000 items costs nothing per order once loaded."""
        found = self._find(PriceList, PriceList.create_id(), copy=False)
        return PriceList() if found is None else found

    def get_calendar(self) -> AccountingCalendar:
        return self._get_or(AccountingCalendar, AccountingCalendar.create_id(), AccountingCalendar)

    def _open_calendar(self, day: date, field: str) -> AccountingCalendar:
        """O6: the calendar, once `day` is found in an open month. A command that saves with it
        as `read` is refused if a close got in meanwhile."""
        calendar = self.get_calendar()
        calendar.check_open(day, field)
        return calendar

    def get_pool(self, pool: str) -> SparePartsPool:
        return self._get(SparePartsPool, SparePartsPool.create_id(pool), "spare-parts pool")

    def find_pool(self, pool: str) -> SparePartsPool | None:
        return self._find(SparePartsPool, SparePartsPool.create_id(pool))

    def _credit_line(self, dealer_id: str) -> CreditLine:
        """The dealer's credit line, a new one (status `none`) if it was never rated."""
        return self._get_or(
            CreditLine, CreditLine.create_id(dealer_id), lambda: CreditLine(dealer_id=dealer_id)
        )
