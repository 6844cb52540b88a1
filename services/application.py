"""The one door to the write side: `ChannelLedger`, an eventsourcing Application holding every
aggregate, composed of each rule family's commands (`services/commands/`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.policy import PolicyBook
from services.commands.base import Done, LedgerBase
from services.commands.credit import CreditCommands
from services.commands.dealers import DealerCommands
from services.commands.orders import OrderCommands
from services.commands.periods import PeriodCommands
from services.commands.policy import PolicyCommands
from services.commands.prices import PriceCommands
from services.commands.slips import SlipCommands
from services.commands.spare_parts import SparePartsCommands

__all__ = ["ChannelLedger", "Done"]


class ChannelLedger(
    DealerCommands,
    PriceCommands,
    OrderCommands,
    CreditCommands,
    SparePartsCommands,
    PeriodCommands,
    SlipCommands,
    PolicyCommands,
    LedgerBase,
):
    """All aggregates in one application, so the store has one totally ordered log. Every
    command is a method decorated with `command` returning `Done`; multi-aggregate commands save
    in one atomic `save`."""

    name = "ChannelLedger"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        initial_policy: PolicyBook | None = None,
        clock: Callable[[], date] = date.today,
        command_attempts: int = 20,
        open_policy: bool = True,
    ) -> None:
        """`initial_policy` is what an empty store records as its first policy versions (default:
        `policy/default.toml`); a store that has them ignores it. `open_policy=False` for a
        process that only reads the log and must not write to it (relay, audit)."""
        super().__init__(env, clock=clock, command_attempts=command_attempts)
        if open_policy:
            self.open_policy(initial_policy)
