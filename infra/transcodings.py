"""Transcodings the stored events need beyond the library's defaults (UUID, Decimal, datetime)."""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import JSONTranscoder, Transcoding


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def register_all(transcoder: JSONTranscoder) -> None:
    """Called by every application that reads Channel Ledger's events (notes: pitfall 5)."""
    transcoder.register(DateAsISO())
