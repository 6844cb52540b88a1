"""The composition root: builds the application (and, in later layers, projections, process
managers, relay and consumers) from the settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.policy import PolicyBook
from infra.persistence import parse_database_url
from infra.policy_file import load_policy
from infra.settings import Settings
from services.application import ChannelLedger


def build_application(
    settings: Settings,
    *,
    policy: PolicyBook | None = None,
    clock: Callable[[], date] = date.today,
) -> ChannelLedger:
    database = parse_database_url(settings.CHANNEL_DATABASE_URL)
    return ChannelLedger(
        database.eventsourcing_env(),
        policy=policy or load_policy(settings.CHANNEL_POLICY_FILE),
        clock=clock,
        command_attempts=settings.CHANNEL_COMMAND_ATTEMPTS,
    )
