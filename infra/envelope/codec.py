"""The CloudEvents 1.0 document of one event (its schema), the validated Envelope and the Codec
between domain events and Kafka message values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from domain.lines import VALUE_TYPES
from infra.envelope.base import BASE_FIELDS, DATACONTENTTYPE, SOURCE, SPECVERSION, EnvelopeError, event_id
from infra.envelope.catalog import EventCatalog, EventType
from infra.envelope.fast import Reader, Unsure, Values, read_values
from infra.envelope.fields import StrictString


class CloudEventSchema(Schema):
    """A CloudEvents 1.0 JSON document of one Channel Ledger event (structured mode).

    Extensions: `position` (the store's log position), `aggregateversion`, `predecessor` (the
    position of the previous event published to the same partition, 0 for the first: lets a
    consumer see a gap) and, for an event that concerns one dealer, `partitionkey` (the
    CloudEvents partitioning extension: the dealer id, which is also the Kafka key).
    """

    specversion = StrictString(required=True, validate=validate.Equal(SPECVERSION))
    id = StrictString(required=True, validate=validate.Length(min=1))
    source = StrictString(required=True, validate=validate.Length(min=1))
    type = StrictString(required=True)
    subject = fields.UUID(required=True)
    time = fields.AwareDateTime(required=True)
    datacontenttype = StrictString(required=True, validate=validate.Equal(DATACONTENTTYPE))
    data = fields.Dict(keys=StrictString(), required=True)
    position = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    aggregateversion = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    predecessor = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    partitionkey = StrictString(load_default=None, validate=validate.Length(min=1))

    def __init__(self, catalog: EventCatalog, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.catalog = catalog

    @validates_schema(skip_on_field_errors=False)
    def check_event(self, doc: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        entry = self.catalog.named(doc["type"]) if "type" in doc else None
        if "type" in doc and entry is None:
            errors["type"] = [f"unknown event type {doc['type']!r}"]
        if entry is not None and "data" in doc:
            try:
                # Loaded once, here: the document's `data` leaves the schema decoded.
                doc["data"] = entry.data.load(doc["data"])
            except ValidationError as e:
                errors["data"] = e.messages
        if {"id", "subject", "aggregateversion"} <= doc.keys() and doc["id"] != event_id(
            doc["subject"], doc["aggregateversion"]
        ):
            errors["id"] = ["does not name this event (subject, aggregateversion)"]
        if doc.get("predecessor", 0) >= doc.get("position", 1 << 62):
            errors["predecessor"] = ["must precede the position"]
        if errors:
            raise ValidationError(errors)


@dataclass(frozen=True)
class Envelope:
    """A validated envelope; `data` holds the decoded values (Decimal, date, …)."""

    id: str
    source: str
    type: EventType
    subject: UUID
    time: datetime
    position: int
    aggregateversion: int
    predecessor: int
    partitionkey: str | None
    data: dict[str, Any]

    @property
    def broadcast(self) -> bool:
        """Published to every partition: the event concerns all dealers."""
        return self.partitionkey is None

    @classmethod
    def of(cls, entry: EventType, values: Values) -> Envelope:
        """The envelope of `read_values`' values: `Envelope(id=…, type=entry, …)`, made without
        the frozen dataclass's `__init__`, which sets each field through `object.__setattr__` (the
        consumer makes one per message)."""
        (identity, source, _, subject, time, position, version, predecessor, partitionkey,
         data) = values
        envelope = object.__new__(cls)
        object.__setattr__(envelope, "__dict__", {
            "id": identity, "source": source, "type": entry, "subject": subject, "time": time,
            "position": position, "aggregateversion": version, "predecessor": predecessor,
            "partitionkey": partitionkey, "data": data})
        return envelope

    def to_event(self) -> Aggregate.Event:
        """The domain event object, built as the application's mapper builds it."""
        entry = self.type
        state = {**self.data, "originator_id": self.subject,
                 "originator_version": self.aggregateversion, "timestamp": self.time}
        if entry.created:
            state["originator_topic"] = get_topic(entry.aggregate_class)
        event = object.__new__(entry.event_class)
        object.__setattr__(event, "__dict__", state)
        return event


class Codec:
    """Encodes domain events as envelopes and decodes messages back, refusing anything that fails
    the schema with an EnvelopeError.

    `checked`: each envelope encoded is decoded again and compared with its event before it
    leaves. The relay encodes unchecked (a decode costs more than the encode and the send
    together): the tests check every event type of the catalogue and every envelope the relay
    publishes in them (tests/unit/test_envelope.py, tests/integration/test_relay.py)."""

    def __init__(self, catalog: EventCatalog | None = None, source: str = SOURCE, *,
                 checked: bool = True) -> None:
        self.catalog = catalog or EventCatalog.of_domain()
        self.source = source
        self.schema = CloudEventSchema(self.catalog)
        self.checked = checked

    def document(self, event: Any, *, position: int, predecessor: int,
                 partitionkey: str | None) -> dict[str, Any]:
        entry = self.catalog.for_event(event)
        state = vars(event)
        values = {k: v for k, v in state.items() if k not in BASE_FIELDS}
        doc: dict[str, Any] = {
            "specversion": SPECVERSION,
            "id": event_id(event.originator_id, event.originator_version),
            "source": self.source,
            "type": entry.name,
            "subject": str(event.originator_id),
            "time": event.timestamp.isoformat(),
            "datacontenttype": DATACONTENTTYPE,
            "data": self._data(entry, values),
            "position": position,
            "aggregateversion": event.originator_version,
            "predecessor": predecessor,
        }
        if partitionkey is not None:
            doc["partitionkey"] = partitionkey
        return doc

    def _data(self, entry: EventType, values: dict[str, Any]) -> dict[str, Any]:
        """The envelope's `data`. Unchecked, the values are written as the schema writes them
        without running it (a quarter of the relay's time): decimals as their text, dates and
        times ISO, UUIDs as text; a value of any other type goes through the schema. Checked, the
        schema writes them (and the decode after it compares)."""
        if not self.checked:
            try:
                return {k: _plain(v) for k, v in values.items()}
            except _NotPlain:
                pass
        data: dict[str, Any] = entry.data.dump(values)
        return data

    def encode(self, event: Any, *, position: int, predecessor: int = 0,
               partitionkey: str | None = None) -> bytes:
        """The message value; when `checked`, raises EnvelopeError unless it decodes to the same
        event."""
        doc = self.document(event, position=position, predecessor=predecessor,
                            partitionkey=partitionkey)
        value = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        if not self.checked:
            return value
        back = self.decode(value)
        if back.data != {k: v for k, v in vars(event).items() if k not in BASE_FIELDS}:
            raise EnvelopeError(
                f"{back.type.name} at position {position} does not survive the envelope: a "
                "nested value is missing from its schema in infra.envelope.NESTED"
            )
        return value

    def decode(self, value: bytes | str | None) -> Envelope:
        if value is None:
            raise EnvelopeError("empty message (no value)")
        try:
            # orjson's reading, checked by the fast reader. It can differ from the standard
            # library's only by floats (orjson reads an integer beyond 64 bits as one), which no
            # field the fast reader accepts holds.
            values = read_values(fast_loads(value), self._reader)
        except Unsure:
            doc = loads(value)  # the standard library's reading, for marshmallow to decide
            if not isinstance(doc, dict):
                raise EnvelopeError("not a JSON object") from None
            loaded = self._load(doc)
            values = (loaded["id"], loaded["source"], loaded["type"], loaded["subject"],
                      loaded["time"], loaded["position"], loaded["aggregateversion"],
                      loaded["predecessor"], loaded["partitionkey"], loaded["data"])
        entry = self.catalog.named(values[2])
        assert entry is not None
        return Envelope.of(entry, values)

    def _reader(self, name: str) -> Reader | None:
        entry = self.catalog.named(name)
        return None if entry is None else entry.reader

    def _load(self, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = self.schema.load(doc)
        except ValidationError as e:
            errors = e.normalized_messages()
            fields_named = ", ".join(sorted(str(k) for k in errors)) if isinstance(
                errors, dict) else "?"
            raise EnvelopeError(f"fails the envelope schema ({fields_named})", errors) from None
        return loaded


def fast_loads(value: bytes | str) -> Any:
    """orjson's reading of a JSON text, or None if it refuses it (NaN, a lone surrogate, another
    encoding than UTF-8…). It gives the standard library's values but for floats: orjson reads an
    integer beyond 64 bits as a float (tests/unit/test_envelope_fast.py)."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def loads(value: bytes | str) -> Any:
    """The standard library's reading of a JSON text; its refusal is an EnvelopeError."""
    try:
        return json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EnvelopeError(f"not a JSON document: {e}") from None


class _NotPlain(Exception):
    pass


def _plain(value: Any) -> Any:
    """`value` as the envelope's schema dumps it, for the types the schema maps one way only."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is Decimal:
        return str(value)  # as marshmallow's Decimal(as_string=True) writes it
    if kind is list:
        return [_plain(v) for v in value]
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    if kind is date or kind is datetime:
        return value.isoformat()
    if kind is UUID:
        return str(value)
    if kind in VALUE_TYPES:  # a typed value of domain/lines.py: an object of its fields
        return {k: _plain(v) for k, v in vars(value).items()}
    if isinstance(value, str):  # a StrEnum: marshmallow's String writes its text
        return str(value)
    raise _NotPlain(kind)
