"""Two ways to give the read model an event it cannot apply: a handler that fails for one kind
of event (in this process only; undone to "fix the cause"), and a stored event whose data the
handler cannot read (in the store, so every process meets it)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from domain.dealer import Dealer
from projections import model
from projections.records import EventRecord
from services.application import ChannelLedger


def failing_handler(monkeypatch: pytest.MonkeyPatch, kind: str, message: str,
                    position: int | None = None) -> None:
    """Every event of `kind` (or only the one at `position`: the read models this process keeps
    for other purposes apply the others) fails to apply with ValueError(message), until
    `monkeypatch.undo()`."""
    original = model.HANDLERS.get(kind)

    def cannot_apply(db: Any, record: EventRecord) -> None:
        if position is None or record.position == position:
            raise ValueError(message)
        if original is not None:
            original(db, record)

    monkeypatch.setitem(model.HANDLERS, kind, cannot_apply)


def store_half_a_registration(app: ChannelLedger) -> int:
    """A `Dealer.Registered` without its fields, of a dealer no command loads: the write side
    never reads it, the read model's handler cannot. Returns its log position."""
    state = app.mapper.transcoder.encode({"name": "half a registration"})
    topic = f"{Dealer.__module__}:Dealer.Registered"
    app.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, topic, state)])
    return app.recorder.max_notification_id() or 0


def store_unreadable_event(app: ChannelLedger) -> int:
    """A stored event whose topic names no class: the mapper cannot decode it. Returns its
    log position."""
    app.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "domain.dealer:Dealer.Vanished", b"{}")])
    return app.recorder.max_notification_id() or 0
