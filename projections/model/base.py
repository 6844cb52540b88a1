"""What a read-model family module uses to declare the handlers of the events that change its
tables: `@handles("<Aggregate>.<Event>")` puts a handler in the one table the registry applies.

A family whose events come in long runs (an order's life cycle) declares a `Gatherer` with its
handlers, `@handles(kind, gatherer=...)`: the handlers of a run of that family's events in one
transaction then work on the gatherer's rows in memory, which reads what the run needs in a few
statements before it and writes what it changed in a few after it — set-based, whatever the
length of the run. Any other family's event ends the run (its rows are written first), so every
handler still sees the tables as they are after the events before it."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from infra.sql import Db
from projections.records import EventRecord

# Every read-model table's name begins so (`@orders` is the table rm_orders).
PREFIX = "rm_"

# A handler takes the transaction's `Db`, or its family's `Gatherer` for a gathered family.
Handler = Callable[[Any, EventRecord], None]
HANDLERS: dict[str, Handler] = {}


class Gatherer(ABC):
    """A family's rows for one run of its events: read by the constructor (which sees the whole
    run, so it reads what every event of it needs at once), changed by the family's handlers,
    written by `write`. `memo` (None when it may not be used): what the family read in earlier
    batches of the view and may take again instead of reading it (see `Memo`)."""

    # Whether the family's handlers leave what any family keeps in the memo as it is.
    keeps_memo = False

    @abstractmethod
    def __init__(self, db: Db, run: Sequence[EventRecord], memo: dict[Any, Any] | None) -> None:
        ...

    @abstractmethod
    def write(self) -> None: ...


GATHERERS: dict[str, type[Gatherer]] = {}


class Memo:
    """What gatherers read in one view's earlier batches, taken again instead of read (an order's
    dealer: its region and owner history), kept only while it cannot have changed: from one
    committed batch to the next when no other feeder wrote in between (the position tracked
    under the write lock, under the same name, is the one this view's last batch committed: a
    dealer's events come in order under one name, a partition's for the reporting consumer, whose
    dealers are keyed to partitions) and when every event since
    is of a family that keeps it (`Gatherer.keeps_memo`). Any other batch, or one that fails,
    forgets it. One batch at a time (a lock), from `open` to `committed`."""

    LIMIT = 10_000  # entries at most: beyond, it is forgotten

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        # The tracking name and position the last batch committed, and this batch's once it has:
        # a reporting consumer tracks each partition under a name of its own.
        self._tracked: tuple[str, int] | None = None
        self._pending: tuple[str, int] | None = None
        self._done = False
        self._lock = threading.Lock()

    @contextmanager
    def batch(self) -> Iterator[Memo]:
        """One batch's use of the memo: forgotten unless `committed()` is called within."""
        with self._lock:
            self._done = False
            try:
                yield self
            finally:
                if not self._done:
                    self._values.clear()
                    self._tracked = None

    def open(self, name: str, current: int,
             records: Sequence[EventRecord]) -> dict[Any, Any] | None:
        """The memo for this batch's `records`, applied after the position `current` tracked
        under `name` (read under the write lock); None when they may change what it holds."""
        if (name, current) != self._tracked or len(self._values) > self.LIMIT:
            self._values.clear()
        self._pending = (name, records[-1].position if records else current)
        if all(_keeps_memo(r.kind) for r in records):
            return self._values
        self._values.clear()
        return None

    def committed(self) -> None:
        """The batch has committed: the memo holds at the position it tracked."""
        self._tracked, self._done = self._pending, True


def _keeps_memo(kind: str) -> bool:
    family = GATHERERS.get(kind)
    return family is not None and family.keeps_memo


def columns_of(ddl: str) -> tuple[tuple[str, str], ...]:
    """A table's columns as (name, SQL type), in order, from its declaration in `TABLES`."""
    found = []
    for part in ddl.replace("\n", " ").split(","):
        words = part.split()
        if words and words[0].upper() != "PRIMARY" and not words[0].endswith(")"):
            found.append((words[0], words[1]))
    return tuple(found)


def handles(kind: str, *, gatherer: type[Gatherer] | None = None) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if kind in HANDLERS:
            raise ValueError(f"two handlers of {kind}: {HANDLERS[kind].__module__} and {fn.__module__}")
        HANDLERS[kind] = fn
        if gatherer is not None:
            GATHERERS[kind] = gatherer
        return fn

    return register


def apply_all(db: Db, records: Sequence[EventRecord], memo: dict[Any, Any] | None = None) -> None:
    """Apply `records`, in order, in the transaction of `db`: each run of one gathered family's
    events through its gatherer (given `memo`, see `Memo`), each run of other events by their
    handlers, pipelined (their statements whose results are not read go out without waiting for
    each answer)."""
    i, end = 0, len(records)
    while i < end:
        family = GATHERERS.get(records[i].kind)
        j = i + 1
        while j < end and GATHERERS.get(records[j].kind) is family:
            j += 1
        run = records[i:j]
        if family is None:
            todo = [(handler, event) for event in run if (handler := HANDLERS.get(event.kind))]
            if todo:  # (leaving a pipeline costs a round trip, whether or not it sent anything)
                with db.pipelined():
                    for handler, event in todo:
                        handler(db, event)
        else:
            rows = family(db, run, memo)
            for event in run:
                HANDLERS[event.kind](rows, event)
            rows.write()
        i = j
