"""The composition root: builds the application (and, in later layers, projections, process
managers, relay and consumers) from the settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.policy import PolicyBook
from infra.persistence import parse_database_url
from infra.settings import Settings
from services.application import ChannelLedger


def build_application(
    settings: Settings,
    *,
    initial_policy: PolicyBook | None = None,
    clock: Callable[[], date] = date.today,
    open_policy: bool = True,
) -> ChannelLedger:
    """`initial_policy` only matters for an empty store (its first policy versions); every figure
    reads the versions recorded in the log."""
    database = parse_database_url(settings.CHANNEL_DATABASE_URL)
    return ChannelLedger(
        database.eventsourcing_env(),
        initial_policy=initial_policy,
        clock=clock,
        command_attempts=settings.CHANNEL_COMMAND_ATTEMPTS,
        open_policy=open_policy,
    )
