"""What a read-model family module uses to declare the handlers of the events that change its
tables: `@handles("<Aggregate>.<Event>")` puts a handler in the one table the registry applies."""

from __future__ import annotations

from collections.abc import Callable

from infra.sql import Db
from projections.records import EventRecord

# Every read-model table's name begins so (`@orders` is the table rm_orders).
PREFIX = "rm_"

Handler = Callable[[Db, EventRecord], None]
HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if kind in HANDLERS:
            raise ValueError(f"two handlers of {kind}: {HANDLERS[kind].__module__} and {fn.__module__}")
        HANDLERS[kind] = fn
        return fn

    return register
