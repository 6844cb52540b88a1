"""What every view reaches: the runtime (write side, read side, sync), the key store, the
settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from flask import current_app

from infra.settings import Settings
from projections.faults import ReadModelStoppedError
from projections.queries import Reports
from services.application import ChannelLedger, Done
from services.http.idempotency import IdempotencyStore
from services.http.keys import KeyStore
from services.runtimes.base import Runtime

T = TypeVar("T")
log = logging.getLogger("channel.http")


@dataclass
class Channel:
    runtime: Runtime
    keys: KeyStore
    settings: Settings

    @property
    def app(self) -> ChannelLedger:
        return self.runtime.app

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        """Idempotency-Key answers, in a table beside the keys' (same database)."""
        return IdempotencyStore(self.keys.datastore,
                                self.settings.CHANNEL_IDEMPOTENCY_ABANDON_AFTER)


def channel() -> Channel:
    found: Channel = current_app.extensions["channel"]
    return found


def ledger() -> ChannelLedger:
    return channel().runtime.app


def reports() -> Reports:
    """The read model's queries; a stopped read model refuses (503, naming where it stopped)."""
    runtime = channel().runtime
    fault = runtime.read_fault()
    if fault is not None:
        raise ReadModelStoppedError(fault, runtime.position)
    return runtime.reports


def synced(done: Done[T]) -> T:
    """After a command, let the read side reach what it wrote, so the next read sees it. The
    command's events are stored: its answer stands whatever the read side does (a fault of the
    read model is recorded by the runtime; anything else, such as a busy database, is logged)."""
    try:
        channel().runtime.sync(done.position)
    except Exception:
        log.exception("read side: could not sync to log position %s after a command", done.position)
    return done.value
