"""What a read-model family module uses to declare the handlers of the events that change its
tables: `@handles("<Aggregate>.<Event>")` puts a handler in the one table the registry applies.

A family whose events come in long runs (an order's life cycle) declares a `Gatherer` with its
handlers, `@handles(kind, gatherer=...)`: the handlers of a run of that family's events in one
transaction then work on the gatherer's rows in memory, which reads what the run needs in a few
statements before it and writes what it changed in a few after it — set-based, whatever the
length of the run. Any other family's event ends the run (its rows are written first), so every
handler still sees the tables as they are after the events before it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
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
    written by `write`."""

    @abstractmethod
    def __init__(self, db: Db, run: Sequence[EventRecord]) -> None: ...

    @abstractmethod
    def write(self) -> None: ...


GATHERERS: dict[str, type[Gatherer]] = {}


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


def apply_all(db: Db, records: Sequence[EventRecord]) -> None:
    """Apply `records`, in order, in the transaction of `db`: each run of one gathered family's
    events through its gatherer, each run of other events by their handlers, pipelined (their
    statements whose results are not read go out without waiting for each answer)."""
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
            rows = family(db, run)
            for event in run:
                HANDLERS[event.kind](rows, event)
            rows.write()
        i = j
