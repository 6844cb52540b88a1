"""What every view reaches: the runtime (write side, read side, sync), the key store, the
settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from flask import current_app

from infra.settings import Settings
from projections.queries import Reports
from services.application import ChannelLedger, Done
from services.http.keys import KeyStore
from services.runtime import Runtime

T = TypeVar("T")


@dataclass
class Channel:
    runtime: Runtime
    keys: KeyStore
    settings: Settings

    @property
    def app(self) -> ChannelLedger:
        return self.runtime.app


def channel() -> Channel:
    found: Channel = current_app.extensions["channel"]
    return found


def ledger() -> ChannelLedger:
    return channel().runtime.app


def reports() -> Reports:
    return channel().runtime.reports


def synced(done: Done[T]) -> T:
    """After a command, let the read side reach what it wrote, so the next read sees it."""
    channel().runtime.sync(done.position)
    return done.value
