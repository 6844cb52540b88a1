"""Transcodings the stored events need beyond the library's defaults (UUID, Decimal, datetime):
dates, and the typed values events carry (domain/lines.py)."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.lines import VALUE_TYPES


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ValueAsObject(Transcoding):
    """A frozen dataclass of domain/lines.py stored as an object of its fields (their own values
    go through the transcoder in turn: Decimal, date), named after the class."""

    def __init__(self, cls: type) -> None:
        self.type = cls
        # The name stored with each value ("order_line"): renaming the class must keep it.
        self.name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
        self._names = tuple(f.name for f in fields(cls))

    @property
    def field_names(self) -> tuple[str, ...]:
        """The fields stored, in this order."""
        return self._names

    def encode(self, obj: Any) -> dict[str, Any]:
        return {n: getattr(obj, n) for n in self._names}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


def register_all(transcoder: JSONTranscoder) -> None:
    """Called by every application that reads Channel Ledger's events (notes: pitfall 5)."""
    transcoder.register(DateAsISO())
    for cls in VALUE_TYPES:
        transcoder.register(ValueAsObject(cls))
