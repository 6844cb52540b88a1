"""The application as the import drives it: the same commands, every rule the same, but their saves
held back while a row runs, so that what one row's commands change (a payment, the shipment, the
delivery) is stored in one atomic save at the end, or not at all. A dry run keeps what the accepted
rows changed in memory instead of storing it: later rows then see it, as they would in a real run,
and the store is never written."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import OperationalError, RecordConflictError

from domain.errors import ConcurrencyError
from services.application import ChannelLedger

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


class StagedLedger(ChannelLedger):
    """`ChannelLedger` whose `save` is held back inside `unit()`. Loads see what the unit has saved
    so far (and, in a dry run, what earlier units kept) before they look in the store."""

    name = ChannelLedger.name  # the same application: its log, its projections' tracking

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._unit: dict[UUID, Aggregate] | None = None
        self._guards: dict[UUID, int | None] = {}
        self._kept: dict[UUID, Aggregate] = {}
        super().__init__(*args, **kwargs)

    def save(self, *objs: Any, **kwargs: Any) -> list[Any]:
        if self._unit is None:
            return super().save(*objs, **kwargs)
        for obj in objs:
            if isinstance(obj, Aggregate):
                self._unit[obj.id] = obj
        # The versions the commands' decisions rest on (services/commands/base.py `_save`): the
        # first a unit read is the one the store must still hold when the unit is saved.
        for aggregate_id, version in (kwargs.get("expected_versions") or {}).items():
            self._guards.setdefault(aggregate_id, version)
        return []

    def _find(
        self, cls: type[A], aggregate_id: UUID, *, copy: bool = True, new: bool = False
    ) -> A | None:
        held = self._held(aggregate_id)
        if held is None:
            return super()._find(cls, aggregate_id, copy=copy, new=new)
        if not isinstance(held, cls):
            return None
        # A command changes what it loads: it gets a copy, so that a refused command leaves the
        # unit as it was.
        return deepcopy(held) if copy else held

    def _held(self, aggregate_id: UUID) -> Aggregate | None:
        if self._unit is not None and aggregate_id in self._unit:
            return self._unit[aggregate_id]
        return self._kept.get(aggregate_id)

    def unit(self, work: Callable[[], T], *, dry_run: bool) -> tuple[T, int | None]:
        """Run `work` (one row's commands) as one unit: `(its result, the last log position
        stored)`. What it saved is stored in one save, or, in a dry run, kept in memory (position
        None). If `work` raises, nothing is stored or kept. A unit that meets a concurrent writer
        runs again on fresh state, as a command does (`services.commands.base.command`)."""
        for attempt in range(self.command_attempts):
            self._unit, self._guards = {}, {}
            # The first attempt of a stored unit takes cached aggregates unchecked, as a command
            # does: the unit's one save checks their versions (the guards), and a unit refused
            # there runs again on fresh loads. A dry run stores nothing, so nothing would check
            # them: it loads fresh.
            self.optimistic_loads = attempt == 0 and not dry_run
            try:
                result = work()
                if dry_run:
                    self._keep(self._unit)
                    return result, None
                return result, self._store(self._unit, self._guards)
            except (RecordConflictError, OperationalError):
                time.sleep(random.uniform(0, 0.005 * (2 ** min(attempt, 6))))
            finally:
                self._unit, self._guards = None, {}
                self.optimistic_loads = ChannelLedger.optimistic_loads
        raise ConcurrencyError("import: concurrent updates kept conflicting; run the import again")

    def _keep(self, staged: dict[UUID, Aggregate]) -> None:
        for aggregate in staged.values():
            aggregate.collect_events()  # never stored: only the state is kept
        self._kept.update(staged)

    def _store(self, staged: dict[UUID, Aggregate], guards: dict[UUID, int | None]) -> int | None:
        if not staged:
            return None
        expected = {k: v for k, v in guards.items() if k not in staged}
        recordings = super().save(*staged.values(), expected_versions=expected)
        return recordings[-1].notification.id if recordings else None
