"""The seal of a month close (O6, audit): the digest of every stored event the close covers, in
parts saved ahead of the close, so that `channel audit verify` can name an altered event."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import named_id


class LogSeal(Aggregate):
    """One part of a close's seal. The close's chain hash authenticates the parts: recomputed from
    their digests it must equal the hash the close recorded."""

    @staticmethod
    def create_id(month: str, part: int, covers_to: int | None = None) -> UUID:
        """A close attempt's parts are named by its month and the last position it covers, so the
        parts a crashed attempt left behind never collide with those of the retry (which covers
        them too). `covers_to=None`: the names of stores closed by earlier releases, whose parts
        went out in one save with the close."""
        if covers_to is None:
            return named_id("log-seal", month, part)
        return named_id("log-seal", month, covers_to, part)

    @classmethod
    def of_close(
        cls, month: str, covers_to: int, part: int, positions: list[list[int]], digests: str
    ) -> LogSeal:
        """A part of the seal of the close of `month` covering up to `covers_to`: the event is
        the same `Recorded` as ever, only the aggregate's name is scoped to the attempt."""
        recorded: Any = cls.Recorded  # type: ignore[attr-defined]  # made by @event below
        seal: LogSeal = cls._create(
            recorded, id=cls.create_id(month, part, covers_to), month=month, part=part,
            positions=positions, digests=digests,
        )
        return seal

    @event("Recorded")
    def __init__(self, month: str, part: int, positions: list[list[int]], digests: str) -> None:
        self.month = month
        self.part = part
        self.positions = positions
        self.digests = digests
