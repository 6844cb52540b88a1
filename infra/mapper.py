"""The read side's mapper: the library's `Mapper`, whose stored states are read by orjson instead
of the standard library's JSON decoder, for the projections' catch-up, the audit replay and the
live feed, which decode every event of the log (the library's decoding is a third of a catch-up's
time). The write side keeps the library's own.

The library's `JSONTranscoder` reads a state with `json` and an object hook that turns every
object of exactly the keys `_type_` and `_data_` into the value of that transcoding, innermost
objects first. Here orjson reads the state and the same is done over what it read: where the
event class's type hints say a value is (a decimal, a date, a typed value, a list of them…), that
form is looked for and decoded by the same transcoding; anything else is walked as the object
hook would walk it. So the event is the library's own: its `__dict__` equal, key for key and in
the same order. orjson reads a JSON text as `json` does but for numbers (an integer beyond 64 bits
comes as a float, `1e400` is refused) and what it refuses (NaN, a lone surrogate): a state holding
a float, one orjson refuses and one any step fails on are decoded by the library (which raises
its own error if it has one). No Channel Ledger event holds a float: money is a Decimal.
tests/unit/test_mapper.py compares the two on every event type, generated and altered states."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast
from weakref import WeakKeyDictionary

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from infra.envelope.fast import plain_dataclass
from infra.transcodings import DateAsISO, ValueAsObject

Convert = Callable[[Any], Any]  # a dict or list orjson read → its decoded value


class _Unsure(Exception):
    """This state is left to the library's decoding."""


class _Plan(NamedTuple):
    cls: type
    class_version: int
    leaves: dict[str, tuple[str, Convert]]  # key -> (transcoding name, decode of its text)
    converters: dict[str, Convert]  # per key of the state whose hint tells its form


class OrjsonMapper(Mapper[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        transcoder = self.transcoder
        self._plans: dict[str, _Plan] = {}
        self._compiler = (_Compiler(transcoder) if type(transcoder) is JSONTranscoder
                          and self.cipher is None and self.compressor is None else None)

    @classmethod
    def of(cls, mapper: Mapper[Any]) -> Mapper[Any]:
        """The read side's mapper of `mapper`'s transcoder, cipher and compressor (one each)."""
        if isinstance(mapper, OrjsonMapper):
            return mapper
        found = _OF.get(mapper)
        if found is None:
            found = _OF[mapper] = cls(mapper.transcoder, compressor=mapper.compressor,
                                      cipher=mapper.cipher)
        return found

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        compiler = self._compiler
        if compiler is None:
            return super().to_domain_event(stored_event)
        topic = stored_event.topic
        plan = self._plans.get(topic)
        try:
            if plan is None:
                plan = self._plans[topic] = _plan(compiler, topic)
            state = orjson.loads(stored_event.state)
            _convert(state, plan.leaves, plan.converters, compiler.generic)
            if len(state) == 2 and "_type_" in state and "_data_" in state:
                raise _Unsure  # the whole state one transcoded value
            # As the library's Mapper.to_domain_event does from here.
            cls = plan.cls
            state["originator_id"] = find_id_convertor(
                cls, cast(Any, type(stored_event.originator_id)))(stored_event.originator_id)
            state["originator_version"] = stored_event.originator_version
            from_version = state.pop("class_version", 1)
            while from_version < plan.class_version:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
                from_version += 1
        except Exception:  # orjson's refusal, a float, not a dict, a transcoding's error…
            return super().to_domain_event(stored_event)
        event: Any = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event


_OF: WeakKeyDictionary[Mapper[Any], Mapper[Any]] = WeakKeyDictionary()


def _plan(compiler: _Compiler, topic: str) -> _Plan:
    cls = resolve_topic(topic)
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # a hint that does not resolve: every value walked
        hints = {}
    leaves, converters = compiler.fields(hints)
    return _Plan(cls, getattr(cls, "class_version", 1), leaves, converters)


class _Compiler:
    """Converters of the values of type hints, for the transcodings of a transcoder."""

    def __init__(self, transcoder: JSONTranscoder) -> None:
        self.transcoder = transcoder
        self.generic = _walker(transcoder.names)
        self._made: dict[Any, Convert | None] = {}

    def fields(self, hints: dict[str, Any]) -> tuple[dict[str, tuple[str, Convert]],
                                                     dict[str, Convert]]:
        """For fields of these hints: those stored as a transcoding's text (its name and the
        decoding of the text; another form is walked), and the converters of the others whose
        hint tells their form."""
        leaves = {name: leaf for name, hint in hints.items()
                  if (leaf := self.leaf(hint)) is not None}
        converters = {name: convert for name, hint in hints.items()
                      if name not in leaves and (convert := self.convert(hint)) is not None}
        return leaves, converters

    def leaf(self, hint: Any) -> tuple[str, Convert] | None:
        """The transcoding of a value stored as `{"_type_": name, "_data_": "text"}`: its name
        and the decoding of the text (the library's own class's decoding inlined)."""
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            others = [a for a in args if a is not type(None)]
            return self.leaf(others[0]) if len(others) == 1 else None
        transcoding = self.transcoder.types.get(hint) if isinstance(hint, type) else None
        if transcoding is None or isinstance(transcoding, ValueAsObject):
            return None
        return transcoding.name, _DIRECT.get(type(transcoding), transcoding.decode)

    def convert(self, hint: Any) -> Convert | None:
        """The converter of the values of `hint`, or None where only the walk knows (a
        converter is only ever given a dict or a list, and itself walks what it does not
        expect)."""
        if hint not in self._made:
            self._made[hint] = None  # a recursive hint is walked
            self._made[hint] = self._convert(hint)
        return self._made[hint]

    def _convert(self, hint: Any) -> Convert | None:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            others = [a for a in args if a is not type(None)]
            return self.convert(others[0]) if len(others) == 1 else None
        if origin is list and len(args) == 1:
            item = self.convert(args[0])
            return None if item is None else _items(item, self.generic)
        if origin is dict and len(args) == 2 and args[0] is str:
            item = self.convert(args[1])
            return None if item is None else _entries(item, self.generic)
        transcoding = self.transcoder.types.get(hint) if isinstance(hint, type) else None
        if isinstance(transcoding, ValueAsObject):
            try:
                hints = typing.get_type_hints(hint)
            except Exception:
                return None
            names = transcoding.field_names
            leaves, fields = self.fields({n: hints.get(n) for n in names})
            decode: Convert = transcoding.decode
            if plain_dataclass(hint, frozenset(names)):
                decode = _made_as(hint, names, decode)
            return _value_object(transcoding.name, decode, leaves, fields, self.generic)
        leaf = self.leaf(hint)
        return None if leaf is None else _leaf(*leaf, self.generic)


# The library's transcodings of text whose decoding is one call (theirs, without the method).
_DIRECT: dict[type, Convert] = {DecimalAsStr: Decimal, DatetimeAsISO: datetime.fromisoformat,
                                DateAsISO: date.fromisoformat}


def _convert(obj: dict[str, Any], leaves: dict[str, tuple[str, Convert]],
             converters: dict[str, Convert], generic: Convert) -> None:
    """Decode, in place, the values of an object orjson read (the state, a typed value's
    fields): a value of a leaf field in its stored form at once, any other dict or list by its
    converter (or the walk); raises _Unsure at a float."""
    for key, value in obj.items():
        kind = type(value)
        if kind is dict:
            leaf = leaves.get(key)
            if (leaf is not None and len(value) == 2 and value.get("_type_") == leaf[0]
                    and type(data := value.get("_data_")) is str):
                obj[key] = leaf[1](data)
            else:
                obj[key] = converters.get(key, generic)(value)
        elif kind is list:
            obj[key] = converters.get(key, generic)(value)
        elif kind is float:
            raise _Unsure


def _walker(names: dict[str, Any]) -> Convert:
    """What the library's object hook makes of a dict or list orjson read: objects innermost
    first, one of exactly the keys `_type_` and `_data_` decoded by its transcoding."""

    def walk(value: Any) -> Any:
        if type(value) is not dict:
            return _each(value, walk)
        _convert(value, _NONE, _NONE, walk)
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return names[value["_type_"]].decode(value["_data_"])
        return value

    return walk


def _made_as(cls: type, names: tuple[str, ...], decode: Convert) -> Convert:
    """`decode` (`cls(**fields)`) of a plain frozen dataclass, without its `__init__` (which sets
    each field through `object.__setattr__`) when the fields are all there in their order: the
    same object."""
    new, setattr_ = object.__new__, object.__setattr__

    def made(data: dict[str, Any]) -> Any:
        if tuple(data) != names:
            return decode(data)
        value: Any = new(cls)
        setattr_(value, "__dict__", data)
        return value

    return made


def _leaf(name: str, decode: Convert, generic: Convert) -> Convert:
    """A value stored as `{"_type_": name, "_data_": "text"}` (a decimal, a date, a time)."""

    def convert(value: Any) -> Any:
        if type(value) is dict and len(value) == 2 and value.get("_type_") == name:
            data = value.get("_data_")
            if type(data) is str:
                return decode(data)
        return generic(value)

    return convert


def _value_object(name: str, decode: Convert, leaves: dict[str, tuple[str, Convert]],
                  fields: dict[str, Convert], generic: Convert) -> Convert:
    """A typed value stored as `{"_type_": name, "_data_": {field: value, …}}`."""

    def convert(value: Any) -> Any:
        if type(value) is dict and len(value) == 2 and value.get("_type_") == name:
            data = value.get("_data_")
            if type(data) is dict:
                _convert(data, leaves, fields, generic)
                if len(data) == 2 and "_type_" in data and "_data_" in data:
                    raise _Unsure  # the fields' object is itself a transcoded value
                return decode(data)
        return generic(value)

    return convert


def _items(item: Convert, generic: Convert) -> Convert:
    def convert(value: Any) -> Any:
        return _each(value, item) if type(value) is list else generic(value)

    return convert


def _entries(item: Convert, generic: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is not dict:
            return generic(value)
        _convert(value, _NONE, _NONE, item)
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            raise _Unsure  # the mapping is itself a transcoded value
        return value

    return convert


_NONE: dict[str, Any] = {}  # no leaf nor converter of its own: every value by the one given


def _each(items: list[Any], convert: Convert) -> list[Any]:
    """Decode, in place, the items of a list orjson read: each dict or list by `convert`;
    raises _Unsure at a float."""
    for i, item in enumerate(items):
        kind = type(item)
        if kind is dict or kind is list:
            items[i] = convert(item)
        elif kind is float:
            raise _Unsure
    return items
