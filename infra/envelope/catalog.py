"""The catalogue of event types: every event class of the domain's aggregates, its CloudEvents
`type` name and the schema of its `data`."""

from __future__ import annotations

import importlib
import pkgutil
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from functools import cache

from eventsourcing.domain import Aggregate
from marshmallow import Schema, fields

from infra.envelope.base import BASE_FIELDS, TYPE_PREFIX, EnvelopeError
from infra.envelope.fast import NotCompiled, Reader, compile_schema
from infra.envelope.fields import field_for
from infra.envelope.lines import NESTED


def _short(event_class: type) -> str:
    """"Order.Placed" (the qualified name without any enclosing function's)."""
    return ".".join(event_class.__qualname__.split(".")[-2:])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class EventType:
    """One event class on the wire: `name` is the CloudEvents `type`, e.g.
    `channel.order.Delivered.v1`; `data` is the schema of the envelope's `data`."""

    name: str
    event_class: type[Aggregate.Event]
    aggregate_class: type[Aggregate]
    data: Schema
    created: bool
    # The data schema compiled into plain checks (infra/envelope/fast.py); None: marshmallow only.
    reader: Reader | None = None

    @property
    def qualname(self) -> str:
        return _short(self.event_class)


def _data_schema(event_class: type, nested: Mapping[tuple[str, str], tuple[type[Schema], bool]]
                 ) -> Schema:
    hints = typing.get_type_hints(event_class)
    declared: dict[str, fields.Field] = {}
    for f in dataclass_fields(event_class):
        if f.name in BASE_FIELDS:
            continue
        where = f"{_short(event_class)}.{f.name}"
        explicit = nested.get((_short(event_class), f.name))
        if explicit is not None:
            schema_class, many = explicit
            declared[f.name] = fields.Nested(schema_class, many=many, required=True)
        else:
            declared[f.name] = field_for(hints[f.name], where)
    return Schema.from_dict(declared, name=f"{_short(event_class)}Data")()


def _compiled(data: Schema) -> Reader | None:
    try:
        return compile_schema(data)
    except NotCompiled:
        return None


class EventCatalog:
    """Every event class of the given aggregates, by class and by CloudEvents type."""

    def __init__(self, aggregates: Iterable[type[Aggregate]],
                 nested: Mapping[tuple[str, str], tuple[type[Schema], bool]] = NESTED) -> None:
        self._by_class: dict[type, EventType] = {}
        self._by_name: dict[str, EventType] = {}
        for aggregate in aggregates:
            classes = [
                attr for attr in vars(aggregate).values()
                if isinstance(attr, type) and issubclass(attr, aggregate.Event)
                and _short(attr).split(".")[0] == aggregate.__name__
            ]
            named_created = [
                c for c in classes if issubclass(c, Aggregate.Created) and c.__name__ != "Created"
            ]
            for attr in classes:
                if any(other is not attr and issubclass(other, attr) for other in classes):
                    continue  # a base class (the aggregate's Event), never stored
                if attr.__name__ == "Created" and named_created:
                    continue  # the library's default, unused when `__init__` names its event
                # The wire's version counts changes of the envelope's `data`, not of the stored
                # event: Order.Placed v2 stores typed lines and writes the same data as v1.
                version = getattr(attr, "wire_version", 1)
                name = f"{TYPE_PREFIX}.{_snake(aggregate.__name__)}.{attr.__name__}.v{version}"
                data = _data_schema(attr, nested)
                entry = EventType(name, attr, aggregate, data, issubclass(attr, Aggregate.Created),
                                  _compiled(data))
                self._by_class[attr] = entry
                self._by_name[name] = entry

    @classmethod
    @cache
    def of_domain(cls) -> EventCatalog:
        """The catalogue of every aggregate defined in the `domain` package."""
        import domain

        aggregates: list[type[Aggregate]] = []
        for info in sorted(pkgutil.iter_modules(domain.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"domain.{info.name}")
            aggregates.extend(
                obj for obj in vars(module).values()
                if isinstance(obj, type) and issubclass(obj, Aggregate) and obj is not Aggregate
                and obj.__module__ == module.__name__
            )
        return cls(aggregates)

    @property
    def types(self) -> list[EventType]:
        return list(self._by_name.values())

    def for_event(self, event: object) -> EventType:
        try:
            return self._by_class[type(event)]
        except KeyError:
            raise EnvelopeError(f"{type(event).__qualname__} is not a Channel Ledger event") from None

    def entry_of(self, event_class: type) -> EventType | None:
        return self._by_class.get(event_class)

    def named(self, name: str) -> EventType | None:
        return self._by_name.get(name)
