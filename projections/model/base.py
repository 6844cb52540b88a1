"""What a read-model family module declares: its tables' DDL, its indexes and the handlers of the
events that change them, registered with `@handles("<Aggregate>.<Event>")`."""

from __future__ import annotations

from collections.abc import Callable

from projections.records import EventRecord
from projections.sql import Db

Handler = Callable[[Db, EventRecord], None]


class Handlers(dict[str, Handler]):
    """A family's handlers by event kind ("Order.Delivered"); the registry merges every family's."""

    def on(self, kind: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if kind in self:
                raise ValueError(f"two handlers of {kind}")
            self[kind] = fn
            return fn

        return register
