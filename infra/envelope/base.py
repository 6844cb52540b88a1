"""The envelope's constants, its errors and the stable CloudEvents `id` of an event."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

SPECVERSION = "1.0"
SOURCE = "urn:channel-ledger:store"
DATACONTENTTYPE = "application/json"
# The Kafka protocol binding's content type of a structured-mode message (a record header).
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
TYPE_PREFIX = "channel"
_ID_NAMESPACE = uuid5(NAMESPACE_URL, "channel-ledger:/events")
# Fields every event has; they travel as envelope attributes, not in `data`.
BASE_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


class EnvelopeError(ValueError):
    """A message that is not a valid envelope of a known event; `errors` says field by field."""

    def __init__(self, message: str, errors: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


class MissingSchemaError(TypeError):
    """An event field whose type hint does not say how to decode it (e.g. `list[dict[str, Any]]`)
    and that has no explicit nested schema in NESTED."""


_ID_PREFIX = _ID_NAMESPACE.bytes


def event_id(originator_id: UUID | str, originator_version: int) -> str:
    """The stable CloudEvents `id`: the same event republished carries the same id. It is
    `uuid5(namespace, "<subject>/<version>")`, computed without building UUID objects (the relay
    computes one per message)."""
    name = f"{originator_id}/{originator_version}".encode()
    digest = bytearray(hashlib.sha1(_ID_PREFIX + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def slow_event_id(originator_id: UUID | str, originator_version: int) -> str:
    """`event_id` by the uuid module (what the tests compare it with)."""
    return str(uuid5(_ID_NAMESPACE, f"{originator_id}/{originator_version}"))

