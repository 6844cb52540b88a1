"""The envelope of a stored event written straight from its stored state, without decoding it into
the domain event first (the relay writes one per message).

The stored state is the JSON the library's transcoder wrote (eventsourcing.persistence
JSONTranscoder: no spaces, text as it is, a value of another type as `{"_type_": name, "_data_":
...}`), and the envelope's `data` is the same JSON with each such value written as the codec
writes the decoded value: a decimal, a date or a time as its text, a typed value of
domain/lines.py as the object of its fields. So the data is the stored text with those values cut
out of their wrappers, and the envelope is assembled around it in the codec's order.

The rewrite is conservative: a value in a form it does not know to come back unchanged (a decimal
in exponent form, a time without its microseconds' digits, a transcoding it does not know), a
number that is not an integer (the codec writes those through the schema), a stored event of an
older class version (the mapper upcasts it), a state not laid out as the mapper writes one: each
gives None, and the caller encodes the mapper's domain event with the codec instead. What it does
write is the codec's message, byte for byte (tests/unit/test_envelope_stored.py compares the two
on every event type, on generated events and on altered states). It reads states the library's
transcoder wrote: a date such as 2026-02-30, which no date object writes, is not looked at."""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, cast
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper
from eventsourcing.utils import resolve_topic

from infra.envelope.base import BASE_FIELDS, DATACONTENTTYPE, SPECVERSION, event_id
from infra.envelope.catalog import EventType
from infra.envelope.codec import Codec
from infra.transcodings import DateAsISO, ValueAsObject

_OPEN = b'{"_type_":"'  # where a transcoded value starts (never inside a string: `"` is escaped)
_STRING = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
# The text str() gives a Decimal of these digits (no exponent form: below 1e-6 it writes one).
_DECIMAL = rb"-?(?:[1-9][0-9]*+(?:\.[0-9]++)?|0(?:\.(?:0{0,5}[1-9][0-9]*+|0{1,6}))?)"
_DATE = rb"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# What isoformat() writes: microseconds unless they are 0, an offset unless naive ("-00:00" is
# read as UTC and written "+00:00").
_DATETIME = (_DATE + rb"T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.(?!000000)[0-9]{6})?"
             rb"(?:\+[0-9]{2}:[0-9]{2}|-(?!00:00)[0-9]{2}:[0-9]{2})?")
_LEAVES = {DecimalAsStr: _DECIMAL, DateAsISO: _DATE, DatetimeAsISO: _DATETIME}
# A JSON value without a nested object or array, as a typed value's fields are once their
# decimals are text: a string, an integer, null, true or false.
_SCALAR = _STRING + rb"|-?(?:0|[1-9][0-9]*+)(?![.eE0-9])|null|true|false"
# A number that is not an integer (or NaN, Infinity), which the codec writes through the schema,
# or -0, which it writes as 0:
# written without spaces, it follows a colon, a comma or a bracket (found inside a string too,
# which only sends the state to the mapper).
_NOT_INTEGER = re.compile(rb"[:,\[]-?(?:[0-9]++[.eE]|NaN|Infinity)|[:,\[]-0(?![0-9])")
# Names the envelope carries elsewhere or the mapper takes out of the state, which the data leaves
# out; found anywhere (nested too, harmlessly), the state goes to the mapper.
_ELSEWHERE = (b'"timestamp"', b'"originator_', b'"class_version"')
# An escape in a string the transcoder does not write (it writes the text itself, or \\" \\\\ \\b
# \\f \\n \\r \\t, or \\u00XX for the other control characters), which the codec would write
# otherwise; found after a backslash that is itself escaped too, which is harmless.
_ODD_ESCAPE = re.compile(rb"\\(?:[^\"\\bfnrtu]|u(?!00[01][0-9a-f])|u000[89acd])")
_HEAD = re.compile(rb'\{"timestamp":\{"_type_":"datetime_iso","_data_":"(' + _DATETIME
                   + rb')"\}(?:,"originator_topic":' + _STRING + rb")?")
_CLASS_VERSION = re.compile(rb',"class_version":([1-9][0-9]{0,8})\}\Z')


class _Rewrite:
    """The data's text from the state's (after its timestamp): its transcoded values as the codec
    writes the decoded ones, or None (see the module's docstring)."""

    def __init__(self, transcoder: JSONTranscoder) -> None:
        # By name: None for a decimal, date or time (`{"_type_":"decimal_str","_data_":"12.00"}`
        # is `"12.00"`), else a typed value's opening and the pattern of its fields
        # (`{"_type_":"order_line","_data_":{"sku":...}}` is `{"sku":...}`).
        self._kinds: dict[bytes, tuple[bytes, re.Pattern[bytes]] | None] = {}
        wrong: list[bytes] = []
        for name, transcoding in transcoder.names.items():
            kind = type(transcoding)
            quoted = json.dumps(name, ensure_ascii=False).encode()
            opening = _OPEN + quoted[1:] + b',"_data_":'
            if kind is ValueAsObject:
                names = cast(ValueAsObject, transcoding).field_names
                fields = b",".join(re.escape(f'"{n}":'.encode()) + b"(?:" + _SCALAR + b")"
                                   for n in names)
                self._kinds[quoted[1:-1]] = (opening, re.compile(rb"\{" + fields + rb"\}\}"))
            elif kind in _LEAVES:
                self._kinds[quoted[1:-1]] = None
                # A leaf whose data is not text of its pattern.
                wrong.append(re.escape(opening) + b'(?!"' + _LEAVES[kind] + b'"})')
        self._wrong = re.compile(b"|".join(wrong)) if wrong else None

    def __call__(self, text: bytes) -> bytes | None:
        if _NOT_INTEGER.search(text) is not None or any(n in text for n in _ELSEWHERE):
            return None
        if _OPEN not in text:
            return text
        if self._wrong is not None and self._wrong.search(text) is not None:
            return None
        kinds = self._kinds
        first, *parts = text.split(_OPEN)
        done = [first]
        values = set()
        for part in parts:
            # NAME","_data_":"TEXT"}... for a leaf, NAME","_data_":{... for a typed value.
            end = part.find(b'"')
            name = part[:end]
            if name not in kinds or part[end:end + 11] != b'","_data_":':
                return None
            value = kinds[name]
            if value is None:  # its text is of its pattern: the first `"}` closes the leaf
                done.append(part[end + 11:].replace(b'"}', b'"', 1))
            else:
                values.add(value)
                done.append(_OPEN + part)
        text = b"".join(done)
        for opening, fields in values:
            first, *parts = text.split(opening)
            done = [first]
            for part in parts:
                found = fields.match(part)
                if found is None:
                    return None
                end = found.end()
                done.append(part[:end - 1] + part[end:])
            text = b"".join(done)
        return None if _OPEN in text else text


class Stored(NamedTuple):
    """A stored state read for its envelope: the timestamp's text, the state's fields after it as
    stored (`"name":value,...`, without the class version) and the envelope's data."""

    time: bytes
    fields: bytes
    data: bytes


# A value's stored text to the data's text, or None: not of its shape after all.
Convert: typing.TypeAlias = Callable[[bytes], bytes | None]


class _Value(NamedTuple):
    """How a value of one type is stored: the pattern of its text (no capturing group; a loose
    one when `convert` checks the text itself), the data's text from it (None: the same text)
    and, if there is one, a pattern whose one group is the data's text (no `convert` needed)."""

    pattern: bytes
    convert: Convert | None
    capture: bytes | None = None


_INTEGER = rb"(?:0|-?[1-9][0-9]*+)"
# An object's key (not `_type_`: such an object may be a transcoded value).
_KEY = rb'(?!"_type_")' + _STRING
# A list none of whose items holds a list (a string may hold anything): its items check
# themselves.
_FLAT_LIST = rb'\[(?:[^"\[\]]++|' + _STRING + rb')*+\]'


def _leaf(opening: bytes, text: bytes) -> _Value:
    start = len(opening)
    return _Value(re.escape(opening) + b'"' + text + rb'"\}', lambda t: t[start:-1],
                  re.escape(opening) + b'("' + text + rb'")\}')


def _optional(value: _Value) -> _Value:
    convert = value.convert
    pattern = b"(?:" + value.pattern + b"|null)"
    if convert is None:
        return _Value(pattern, None)
    return _Value(pattern, lambda t: t if t == b"null" else convert(t))


def _items(value: _Value, opening: bytes | None) -> _Value:
    """A list of values; `opening`: the one every item's text starts with, if any."""
    convert = value.convert
    if convert is None:
        return _Value(rb"\[(?:" + value.pattern + b"(?:," + value.pattern + rb")*+)?\]", None)
    if opening is None:  # the items, checked by the list's pattern, are the matches in turn
        item = re.compile(value.pattern)

        def matched(text: bytes) -> bytes | None:
            done = [convert(m.group()) for m in item.finditer(text, 1)]
            return None if None in done else b"[" + b",".join(done) + b"]"  # type: ignore

        return _Value(rb"\[(?:" + value.pattern + b"(?:," + value.pattern + rb")*+)?\]", matched)

    def split(text: bytes) -> bytes | None:  # `[ITEM,ITEM]`: each ITEM starts with the opening
        if text == b"[]":
            return text
        first, *parts = text[1:-1].split(opening)
        if first or not parts:
            return None
        done = []
        for part in parts[:-1]:
            if part[-1:] != b",":
                return None
            done.append(convert(opening + part[:-1]))
        done.append(convert(opening + parts[-1]))
        return None if None in done else b"[" + b",".join(done) + b"]"  # type: ignore

    return _Value(_FLAT_LIST, split)


def _entries(value: _Value) -> _Value:
    """A dict of text to values."""
    entry = _KEY + b":" + value.pattern
    pattern = rb"\{(?:" + entry + b"(?:," + entry + rb")*+)?\}"
    convert = value.convert
    if convert is None:
        return _Value(pattern, None)
    pair = re.compile(b"(" + _KEY + b"):(" + value.pattern + b")")

    def entries(text: bytes) -> bytes | None:
        done = []
        for m in pair.finditer(text, 1):
            converted = convert(m.group(2))
            if converted is None:
                return None
            done.append(m.group(1) + b":" + converted)
        return b"{" + b",".join(done) + b"}"

    return _Value(pattern, entries)


class _Record(NamedTuple):
    """Named fields, each of a compiled type, in their order: `"name":value,...`."""

    pattern: bytes  # without capturing groups
    fields: re.Pattern[bytes]  # a group per field
    template: bytes  # the data's text from the converted fields
    converts: tuple[tuple[int, Convert], ...]  # the fields whose text is converted

    def convert(self, text: bytes) -> bytes | None:
        found = self.fields.fullmatch(text)
        if found is None:
            return None
        if not self.converts:
            return self.template % found.groups()
        values: list[bytes | None] = list(found.groups())
        for i, convert in self.converts:
            converted = convert(values[i])  # type: ignore[arg-type]
            if converted is None:
                return None
            values[i] = converted
        return self.template % tuple(values)


class _Compiler:
    """Patterns of the stored values of type hints, for the transcodings of a transcoder."""

    def __init__(self, transcoder: JSONTranscoder) -> None:
        self.leaves: dict[type, _Value] = {}
        self.values: dict[type, tuple[bytes, tuple[str, ...]]] = {}
        for transcoding in transcoder.types.values():
            kind = type(transcoding)
            quoted = json.dumps(transcoding.name, ensure_ascii=False).encode()
            opening = _OPEN + quoted[1:] + b',"_data_":'
            if kind in _LEAVES:
                self.leaves[transcoding.type] = _leaf(opening, _LEAVES[kind])
            elif kind is ValueAsObject:
                self.values[transcoding.type] = (
                    opening, cast(ValueAsObject, transcoding).field_names)
        self._compiled: dict[Any, _Value | None] = {}

    def value(self, hint: Any) -> _Value | None:
        if hint not in self._compiled:
            self._compiled[hint] = self._value(hint)
        return self._compiled[hint]

    def _value(self, hint: Any) -> _Value | None:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            others = [a for a in args if a is not type(None)]
            inner = self.value(others[0]) if len(others) == 1 and len(args) == 2 else None
            return None if inner is None else _optional(inner)
        if origin is list and len(args) == 1:
            item = self.value(args[0])
            if item is None:
                return None
            opening = next((o for t, (o, _) in self.values.items() if t is args[0]), None)
            return _items(item, opening)
        if origin is dict and len(args) == 2 and args[0] is str:
            item = self.value(args[1])
            return None if item is None else _entries(item)
        if hint is bool:
            return _Value(b"(?:true|false)", None)
        if hint is int:
            return _Value(_INTEGER, None)
        if isinstance(hint, type) and issubclass(hint, str):  # an enum of text is stored as text
            return _Value(_STRING, None)
        if hint in self.leaves:
            return self.leaves[hint]
        if hint in self.values:
            opening, names = self.values[hint]
            hints = typing.get_type_hints(hint)
            record = self.record([(n, hints[n]) for n in names])
            if record is None:
                return None
            convert, start = record.convert, len(opening) + 1

            def value(text: bytes) -> bytes | None:  # `{"_type_":...,"_data_":{FIELDS}}`
                if not text.startswith(opening) or text[start - 1:start] != b"{" or (
                        text[-2:] != b"}}"):
                    return None
                return convert(text[start:-2])

            return _Value(re.escape(opening) + rb"\{" + record.pattern + rb"\}\}", value)
        return None

    def record(self, fields: list[tuple[str, Any]]) -> _Record | None:
        patterns: list[bytes] = []
        grouped: list[bytes] = []
        template: list[bytes] = []
        converts: list[tuple[int, Convert]] = []
        for i, (name, hint) in enumerate(fields):
            value = self.value(hint)
            if value is None:
                return None
            quoted = json.dumps(name, ensure_ascii=False).encode()
            patterns.append(re.escape(quoted + b":") + value.pattern)
            if value.capture is not None:
                grouped.append(re.escape(quoted + b":") + value.capture)
            else:
                grouped.append(re.escape(quoted + b":") + b"(" + value.pattern + b")")
                if value.convert is not None:
                    converts.append((i, value.convert))
            template.append(quoted.replace(b"%", b"%%") + b":%s")
        return _Record(b",".join(patterns), re.compile(b",".join(grouped)),
                       b"{" + b",".join(template) + b"}", tuple(converts))

    def event(self, event_class: type) -> _Record | None:
        """The record of an event class's own fields, as the mapper stores them."""
        if not dataclasses.is_dataclass(event_class):
            return None
        hints = typing.get_type_hints(event_class)
        return self.record([(f.name, hints[f.name]) for f in dataclasses.fields(event_class)
                            if f.name not in BASE_FIELDS])


@dataclass(frozen=True)
class StoredKind:
    """What one stored topic is: its event class, its entry in the catalogue (None: not a Channel
    Ledger event), its class version and the record of its fields (None: not compiled, its states
are rewritten value by value)."""

    event_class: type
    entry: EventType | None
    class_version: int
    type_json: bytes
    fields: _Record | None


class StoredEnvelopes:
    """Envelopes of stored events, as `codec` (unchecked) writes those of `mapper`'s domain events
    (see the module's docstring). `read` reads a stored state, `head` writes its envelope up to
    the predecessor, `finish` the rest, so that an event published to every partition is written
    once. The originator id read with the state is the mapper's when it is a UUID (any other goes
    to the mapper)."""

    def __init__(self, codec: Codec, mapper: Mapper[Any]) -> None:
        self.codec = codec
        self.mapper = mapper
        transcoder = mapper.transcoder
        self._rewrite: _Rewrite | None = None
        self._compiler: _Compiler | None = None
        if (isinstance(transcoder, JSONTranscoder) and mapper.cipher is None
                and mapper.compressor is None and not codec.checked):
            self._rewrite, self._compiler = _Rewrite(transcoder), _Compiler(transcoder)
        self._kinds: dict[str, StoredKind] = {}
        self._keys: dict[str, bytes] = {}
        self._lead = b'{"specversion":' + json.dumps(SPECVERSION).encode() + b',"id":"'
        self._source = (b'","source":' + json.dumps(codec.source, ensure_ascii=False).encode()
                        + b',"type":')
        self._content = (b'","datacontenttype":' + json.dumps(DATACONTENTTYPE).encode()
                         + b',"data":')

    @property
    def rewrites(self) -> bool:
        """Whether it writes envelopes from stored states (else `read` gives None for every one:
        a checked codec, a cipher or a compressor)."""
        return self._rewrite is not None

    def kind(self, topic: str) -> StoredKind:
        found = self._kinds.get(topic)
        if found is None:
            cls = resolve_topic(topic)
            entry = self.codec.catalog.entry_of(cls)
            name = b"" if entry is None else json.dumps(entry.name, ensure_ascii=False).encode()
            record = None if self._compiler is None else self._compiler.event(cls)
            found = self._kinds[topic] = StoredKind(cls, entry, getattr(cls, "class_version", 1),
                                                    name, record)
        return found

    def read(self, kind: StoredKind, originator_id: Any, state: bytes) -> Stored | None:
        """The stored state read for its envelope, or None: encode the mapper's event with the
        codec."""
        rewrite = self._rewrite
        if rewrite is None or kind.entry is None or type(originator_id) is not UUID:
            return None
        head = _HEAD.match(state)
        if head is None or state[-1:] != b"}":
            return None
        end, stated = len(state) - 1, 1
        at = state.rfind(b',"class_version":', head.end())
        if at >= 0:
            found = _CLASS_VERSION.match(state, at)
            if found is None:
                return None
            end, stated = at, int(found.group(1))
        if stated < kind.class_version:
            return None  # the mapper upcasts it
        rest = state[head.end():end]
        if rest:
            if rest[:1] != b",":
                return None
            rest = rest[1:]
            if b"\\" in rest and _ODD_ESCAPE.search(rest) is not None:
                return None
        data = None if kind.fields is None else kind.fields.convert(rest)
        if data is None:
            data = rewrite(b"{" + rest + b"}")
            if data is None:
                return None
        return Stored(head.group(1), rest, data)

    def head(self, kind: StoredKind, position: int, originator_id: Any, version: int,
             stored: Stored) -> bytes:
        """The envelope of the stored event up to (without) its predecessor."""
        subject = str(originator_id)
        return b"".join((
            self._lead, event_id(subject, version).encode(), self._source, kind.type_json,
            b',"subject":"', subject.encode(), b'","time":"', stored.time, self._content,
            stored.data, b',"position":%d,"aggregateversion":%d' % (position, version),
        ))

    def finish(self, head: bytes, predecessor: int, partitionkey: str | None) -> bytes:
        """The message value of `head` (see `head`) with its predecessor and partition key."""
        if partitionkey is None:
            return head + b',"predecessor":%d}' % predecessor
        key = self._keys.get(partitionkey)
        if key is None:
            if len(self._keys) > 100_000:
                self._keys.clear()
            key = self._keys[partitionkey] = json.dumps(partitionkey, ensure_ascii=False).encode()
        return head + b',"predecessor":%d,"partitionkey":%s}' % (predecessor, key)
