"""A fast reader of envelopes, compiled from the same marshmallow schemas the codec validates with.

The reporting consumer decodes every message; marshmallow spends most of that time on the
machinery around each field rather than on the check itself. For each event type, the data
schema's fields are compiled once into plain functions doing the same checks. The reader is
conservative: whatever it is not sure of — a value of an unusual shape, a field kind or a
validator it does not know, a missing or unknown key — raises `Unsure`, and the codec hands the
whole document to marshmallow, which accepts or refuses it and words the errors. So a message
the reader accepts is one marshmallow accepts, with the same values
(tests/unit/test_envelope_fast.py compares the two on every event type and on altered documents).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from marshmallow import Schema, fields, missing

from infra.envelope.base import DATACONTENTTYPE, SPECVERSION, event_id
from infra.envelope.fields import Money, StrictBoolean, StrictString, value_class

Reader = Callable[[Any], Any]


class Unsure(Exception):
    """The fast reader leaves this document to marshmallow."""


class NotCompiled(Exception):
    """A field or schema the fast reader has no plain function for."""


_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?[+-][0-9]{2}:[0-9]{2}"
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _string(value: Any) -> str:
    if type(value) is not str:
        raise Unsure
    return value


def _money(value: Any) -> Decimal:
    if type(value) is not str or not _DECIMAL.fullmatch(value):
        raise Unsure
    return Decimal(value)


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise Unsure
    return value


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise Unsure
    return value


def _iso(pattern: re.Pattern[str], parse: Callable[[str], Any]) -> Reader:
    """A reader of ISO text of exactly `pattern`, parsed by `parse` (a date, an aware time)."""

    def reader(value: Any) -> Any:
        if type(value) is not str or not pattern.fullmatch(value):
            raise Unsure
        try:
            return parse(value)
        except ValueError:
            raise Unsure from None

    return reader


_date = _iso(_DATE, date.fromisoformat)
_aware_datetime = _iso(_DATETIME, datetime.fromisoformat)


def _uuid(value: Any) -> UUID:
    if type(value) is not str or not _UUID.fullmatch(value):
        raise Unsure
    return UUID(value)


# Exact classes only: a subclass may check more than its base.
_SIMPLE: dict[type, Reader] = {
    StrictString: _string,
    Money: _money,
    StrictBoolean: _boolean,
    fields.Date: _date,
    fields.AwareDateTime: _aware_datetime,
    fields.UUID: _uuid,
}


def _field(field: fields.Field) -> Reader:
    if field.validators or field.data_key is not None or field.attribute is not None:
        raise NotCompiled(field)
    kind = type(field)
    if kind in _SIMPLE:
        read = _SIMPLE[kind]
    elif kind is fields.Integer and field.strict:  # type: ignore[attr-defined]
        read = _integer
    elif kind is fields.List:
        read = _list(_field(field.inner))  # type: ignore[attr-defined]
    elif kind is fields.Dict:
        read = _dict(field)
    elif kind is fields.Nested:
        read = _nested(field)
    else:
        raise NotCompiled(field)
    if field.allow_none:
        return _or_none(read)
    return read


def _or_none(read: Reader) -> Reader:
    def reader(value: Any) -> Any:
        return None if value is None else read(value)
    return reader


def _list(item: Reader) -> Reader:
    def reader(value: Any) -> list[Any]:
        if type(value) is not list:
            raise Unsure
        return [item(v) for v in value]
    return reader


def _dict(field: Any) -> Reader:
    if type(field.key_field) is not StrictString or field.key_field.validators:
        raise NotCompiled(field)
    values = _field(field.value_field) if field.value_field is not None else None

    def reader(value: Any) -> dict[str, Any]:
        if type(value) is not dict or any(type(k) is not str for k in value):
            raise Unsure
        return dict(value) if values is None else {k: values(v) for k, v in value.items()}
    return reader


def _nested(field: Any) -> Reader:
    schema = field.schema
    read = compile_schema(schema)
    return _list(read) if field.many else read


def compile_schema(schema: Schema) -> Reader:
    """A plain function reading what `schema.load` reads, or NotCompiled. A schema with hooks is
    compiled only if it is a typed value's (its one hook builds the value from its fields)."""
    cls = value_class(type(schema))
    if cls is None and any(getattr(type(schema), "_hooks", {None: [None]}).values()):
        raise NotCompiled(schema)
    if schema.only or schema.exclude or schema.partial or schema.unknown != "raise":
        raise NotCompiled(schema)
    readers: dict[str, Reader] = {}
    required: set[str] = set()
    defaults: dict[str, Any] = {}
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        readers[name] = _field(field)
        if field.required:
            required.add(name)
        elif field.load_default is not missing:
            if callable(field.load_default):
                raise NotCompiled(field)
            defaults[name] = field.load_default
    known = frozenset(readers)

    def reader(value: Any) -> Any:
        if type(value) is not dict or not required <= value.keys() or not known >= value.keys():
            raise Unsure
        loaded = {**defaults, **{k: readers[k](v) for k, v in value.items()}}
        return loaded if cls is None else cls(**loaded)

    return reader


def read_envelope(doc: Any, data_reader: Callable[[str], Reader | None]) -> dict[str, Any]:
    """The document as CloudEventSchema loads it (its fields, then check_event), or Unsure.
    `data_reader(type)` gives the compiled reader of an event type's data (None: unknown type or
    not compiled)."""
    if type(doc) is not dict:
        raise Unsure
    keys = doc.keys()
    if not keys >= _ENVELOPE_REQUIRED or not keys <= _ENVELOPE_KNOWN:
        raise Unsure
    read = data_reader(_string(doc["type"]))
    if read is None:
        raise Unsure
    if doc["specversion"] != SPECVERSION or doc["datacontenttype"] != DATACONTENTTYPE:
        raise Unsure
    identity, source = _string(doc["id"]), _string(doc["source"])
    position, version = _integer(doc["position"]), _integer(doc["aggregateversion"])
    predecessor = _integer(doc["predecessor"])
    partitionkey = doc.get("partitionkey")
    if partitionkey is not None and (type(partitionkey) is not str or not partitionkey):
        raise Unsure
    if not identity or not source or position < 1 or version < 1 or predecessor < 0:
        raise Unsure
    subject = _uuid(doc["subject"])
    if identity != event_id(subject, version) or predecessor >= position:
        raise Unsure
    return {
        "specversion": SPECVERSION, "id": identity, "source": source, "type": doc["type"],
        "subject": subject, "time": _aware_datetime(doc["time"]),
        "datacontenttype": DATACONTENTTYPE, "data": read(doc["data"]), "position": position,
        "aggregateversion": version, "predecessor": predecessor, "partitionkey": partitionkey,
    }


_ENVELOPE_REQUIRED = frozenset({"specversion", "id", "source", "type", "subject", "time",
                                "datacontenttype", "data", "position", "aggregateversion",
                                "predecessor"})
_ENVELOPE_KNOWN = _ENVELOPE_REQUIRED | {"partitionkey"}
