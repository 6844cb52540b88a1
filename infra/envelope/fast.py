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

import dataclasses
import inspect
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


_UUIDS: dict[str, UUID] = {}  # the UUIDs read lately: an aggregate's events name it again and again


def _uuid(value: Any) -> UUID:
    if type(value) is not str:
        raise Unsure
    known = _UUIDS.get(value)
    if known is not None:
        return known
    if not _UUID.fullmatch(value):
        raise Unsure
    if len(_UUIDS) >= 4096:
        _UUIDS.clear()
    made = _UUIDS[value] = UUID(value)
    return made


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


# Field kinds checked inline by a compiled schema reader: (the test that refuses `{v}`, the value
# read from it). Exact classes only, as in _SIMPLE.
_INLINE: dict[type, tuple[str, str]] = {
    StrictString: ("type({v}) is not str", "{v}"),
    StrictBoolean: ("type({v}) is not bool", "{v}"),
    Money: ("type({v}) is not str or _decimal({v}) is None", "_Decimal({v})"),
}
_STRICT_INTEGER = ("type({v}) is not int", "{v}")


def _inline(field: fields.Field, helper: Callable[[Reader], str]) -> tuple[str | None, str]:
    """How a compiled schema reader reads `field` in line: the test that refuses the value (None:
    none, the reader called raises Unsure) and the expression of the value read; `helper(reader)`
    names a reader function it calls."""
    kind = type(field)
    check: str | None
    if field.validators or field.data_key is not None or field.attribute is not None:
        raise NotCompiled(field)
    if kind in _INLINE:
        check, out = _INLINE[kind]
    elif kind is fields.Integer and field.strict:  # type: ignore[attr-defined]
        check, out = _STRICT_INTEGER
    elif kind is fields.List:
        check, out = "type({v}) is not list", f"[{helper(_field(field.inner))}(x) for x in {{v}}]"  # type: ignore[attr-defined]
    elif kind is fields.Nested and field.many:  # type: ignore[attr-defined]
        item = compile_schema(field.schema)  # type: ignore[attr-defined]
        check, out = "type({v}) is not list", f"[{helper(item)}(x) for x in {{v}}]"
    else:
        check, out = None, f"{helper(_field(field))}({{v}})"
        return check, out  # allow_none: in the reader called
    if field.allow_none:
        check = f"{{v}} is not None and ({check})"
        out = out if out == "{v}" else f"None if {{v}} is None else {out}"
    return check, out


def plain_dataclass(cls: type, names: frozenset[str]) -> bool:
    """Whether `cls(**values)` with a value for each of `names` only stores them: a dataclass
    whose `__init__` takes exactly those fields, with no `__post_init__` and no slots."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__") or any(
            "__slots__" in vars(c) for c in cls.__mro__[:-1]):
        return False
    stored = {f.name for f in dataclasses.fields(cls)}
    return stored == names and set(inspect.signature(cls).parameters) == names


def compile_schema(schema: Schema) -> Reader:
    """A plain function reading what `schema.load` reads, or NotCompiled. A schema with hooks is
    compiled only if it is a typed value's (its one hook builds the value from its fields).

    The function is generated for the schema: one test per field in line (no call per field for
    text, booleans, integers, money and lists), the values read into one dict."""
    cls = value_class(type(schema))
    if cls is None and any(getattr(type(schema), "_hooks", {None: [None]}).values()):
        raise NotCompiled(schema)
    if schema.only or schema.exclude or schema.partial or schema.unknown != "raise":
        raise NotCompiled(schema)
    namespace: dict[str, Any] = {"Unsure": Unsure, "_Decimal": Decimal,
                                 "_decimal": _DECIMAL.fullmatch, "_cls": cls}

    def helper(reader: Reader) -> str:
        name = f"_r{len(namespace)}"
        namespace[name] = reader
        return name

    required: set[str] = set()
    head: list[str] = []  # the required fields' tests
    values: list[str] = []  # their entries in the dict
    tail: list[str] = []  # the optional fields, tested and read after
    for i, (name, field) in enumerate(schema.fields.items()):
        if field.dump_only:
            continue
        check, out = _inline(field, helper)
        v, key = f"v{i}", repr(name)
        test = [] if check is None else [f"    if {check.format(v=v)}:", "        raise Unsure"]
        if field.required:
            required.add(name)
            head += [f"    {v} = value[{key}]", *test]
            values.append(f"{key}: {out.format(v=v)}")
            continue
        tail += [f"    if {key} in value:", f"        {v} = value[{key}]",
                 *[f"    {line}" for line in test], f"        loaded[{key}] = {out.format(v=v)}"]
        if field.load_default is not missing:
            if callable(field.load_default):
                raise NotCompiled(field)
            namespace[f"_d{i}"] = field.load_default
            tail += ["    else:", f"        loaded[{key}] = _d{i}"]
    known = frozenset(name for name, field in schema.fields.items() if not field.dump_only)
    namespace["_required"], namespace["_known"] = frozenset(required), known
    if required == known:  # the keys are these, no more, no fewer
        keys = "    if type(value) is not dict or value.keys() != _known:"
    else:
        keys = ("    if type(value) is not dict or not _required <= value.keys() "
                "or not _known >= value.keys():")
    if cls is None:
        made = ["    return loaded"]
    elif plain_dataclass(cls, known) and not tail:
        # `cls(**loaded)` without the frozen dataclass's `__init__` (which sets each field through
        # `object.__setattr__`): the same object, every field given.
        namespace["_new"], namespace["_setattr"] = object.__new__, object.__setattr__
        made = ["    made = _new(_cls)", "    _setattr(made, '__dict__', loaded)", "    return made"]
    else:
        made = ["    return _cls(**loaded)"]
    source = "\n".join([
        "def reader(value):",
        keys,
        "        raise Unsure",
        *head,
        f"    loaded = {{{', '.join(values)}}}",
        *tail,
        *made,
    ])
    exec(compile(source, f"<reader of {type(schema).__name__}>", "exec"), namespace)
    reader: Reader = namespace["reader"]
    return reader


# What `read_values` gives: id, source, type, subject, time, position, aggregateversion,
# predecessor, partitionkey, data.
Values = tuple[str, str, str, UUID, datetime, int, int, int, str | None, Any]


def read_values(doc: Any, data_reader: Callable[[str], Reader | None]) -> Values:
    """The values CloudEventSchema loads from the document (its fields, then check_event), or
    Unsure. `data_reader(type)` gives the compiled reader of an event type's data (None: unknown
    type or not compiled)."""
    if type(doc) is not dict:
        raise Unsure
    keys = doc.keys()
    if not keys >= _ENVELOPE_REQUIRED or not keys <= _ENVELOPE_KNOWN:
        raise Unsure
    kind, identity, source, subject = doc["type"], doc["id"], doc["source"], doc["subject"]
    position, version, predecessor = doc["position"], doc["aggregateversion"], doc["predecessor"]
    if (type(kind) is not str or type(identity) is not str or type(source) is not str
            or type(position) is not int or type(version) is not int
            or type(predecessor) is not int):
        raise Unsure
    read = data_reader(kind)
    if read is None:
        raise Unsure
    if doc["specversion"] != SPECVERSION or doc["datacontenttype"] != DATACONTENTTYPE:
        raise Unsure
    partitionkey = doc.get("partitionkey")
    if partitionkey is not None and (type(partitionkey) is not str or not partitionkey):
        raise Unsure
    if not source or position < 1 or version < 1 or not 0 <= predecessor < position:
        raise Unsure
    uuid = _uuid(subject)
    # `subject` is the UUID's canonical text (the pattern of _uuid): what event_id writes of it.
    if identity != event_id(subject, version):
        raise Unsure
    return (identity, source, kind, uuid, _aware_datetime(doc["time"]), position, version,
            predecessor, partitionkey, read(doc["data"]))


def read_envelope(doc: Any, data_reader: Callable[[str], Reader | None]) -> dict[str, Any]:
    """The document as CloudEventSchema loads it, or Unsure (`read_values` as a dict)."""
    (identity, source, kind, subject, time, position, version, predecessor, partitionkey,
     data) = read_values(doc, data_reader)
    return {
        "specversion": SPECVERSION, "id": identity, "source": source, "type": kind,
        "subject": subject, "time": time, "datacontenttype": DATACONTENTTYPE, "data": data,
        "position": position, "aggregateversion": version, "predecessor": predecessor,
        "partitionkey": partitionkey,
    }


_ENVELOPE_REQUIRED = frozenset({"specversion", "id", "source", "type", "subject", "time",
                                "datacontenttype", "data", "position", "aggregateversion",
                                "predecessor"})
_ENVELOPE_KNOWN = _ENVELOPE_REQUIRED | {"partitionkey"}
