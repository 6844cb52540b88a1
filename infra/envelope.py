"""The CloudEvents 1.0 structured-mode envelope of Channel Ledger's events on Kafka (DESIGN: Kafka
contract): marshmallow schemas derived from the event classes' type hints, and the way back from
an envelope to the very domain event object the application's mapper gives."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

SPECVERSION = "1.0"
SOURCE = "urn:channel-ledger:store"
DATACONTENTTYPE = "application/json"
# The Kafka protocol binding's content type of a structured-mode message (a record header).
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
TYPE_PREFIX = "channel"
_ID_NAMESPACE = uuid5(NAMESPACE_URL, "channel-ledger:/events")
# Fields every event has; they travel as envelope attributes, not in `data`.
_BASE_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


class EnvelopeError(ValueError):
    """A message that is not a valid envelope of a known event; `errors` says field by field."""

    def __init__(self, message: str, errors: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


class MissingSchemaError(TypeError):
    """An event field whose type hint does not say how to decode it (e.g. `list[dict[str, Any]]`)
    and that has no explicit nested schema in NESTED."""


def event_id(originator_id: UUID | str, originator_version: int) -> str:
    """The stable CloudEvents `id`: the same event republished carries the same id."""
    return str(uuid5(_ID_NAMESPACE, f"{originator_id}/{originator_version}"))


# --- fields -------------------------------------------------------------------------------------


class Money(fields.Decimal):
    """A decimal string, never a JSON number (floats would lose cents)."""

    # A message by key, so that the HTTP edge, which uses these fields too, words it its own way.
    default_error_messages = {"not_text": "Money is a decimal string, e.g. \"12000.00\"."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("not_text")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """true or false, not "yes" or 1."""

    default_error_messages = {"invalid": "Not a boolean."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictString(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError("Not a string.")
        return super()._deserialize(value, attr, data, **kwargs)


def _str() -> fields.Field:
    return StrictString(required=True)


# --- explicit schemas for nested values whose hint is `dict[str, Any]` ------------------------


class OrderLineSchema(Schema):
    sku = _str()
    name = _str()
    qty = fields.Integer(strict=True, required=True)
    unit_price = Money(required=True)
    tier_price = Money(required=True)
    list_price = Money(required=True)
    floor_price = Money(required=True)
    amount = Money(required=True)
    asked_price = Money(required=True, allow_none=True)


class ReturnLineSchema(Schema):
    sku = _str()
    qty = fields.Integer(strict=True, required=True)
    unit_price = Money(required=True)
    amount = Money(required=True)


class PriceItemSchema(Schema):
    sku = _str()
    name = _str()
    list_price = Money(required=True)
    floor_price = Money(required=True)
    tier_prices = fields.Dict(keys=StrictString(), values=Money(), required=True)


class ForecastMonthSchema(Schema):
    month = _str()
    amount = Money(required=True)


class IncidentSchema(Schema):
    kind = _str()
    occurred_on = fields.Date(required=True)
    note = _str()


class QualifyingMonthSchema(Schema):
    month = _str()
    order_value = Money(required=True)
    agreed = Money(required=True)


def _criterion(**extra: fields.Field) -> type[Schema]:
    return Schema.from_dict({"met": StrictBoolean(required=True), **extra})


# C2's five criteria with the figures behind each (CreditLine.Evaluated.details); from_dict
# because the keys "1".."5" are no identifiers.
CreditDetailsSchema: type[Schema] = Schema.from_dict(
    {
        "1": fields.Nested(_criterion(status=_str()), required=True),
        "2": fields.Nested(
            _criterion(months=fields.List(fields.Nested(QualifyingMonthSchema), required=True)),
            required=True,
        ),
        "3": fields.Nested(
            _criterion(
                since=fields.Date(required=True),
                incidents=fields.List(fields.Nested(IncidentSchema), required=True),
            ),
            required=True,
        ),
        "4": fields.Nested(_criterion(attested=StrictBoolean(required=True)), required=True),
        "5": fields.Nested(
            _criterion(violations=fields.List(fields.Nested(IncidentSchema), required=True)),
            required=True,
        ),
    },
    name="CreditDetailsSchema",
)


class SlipLineSchema(Schema):
    """A line of a rebate confirmation slip (R5): a posted figure or an R6 correction. Lines carry
    figures; slips issued before that also hold a `why` sentence, so it is optional (a line
    decodes with it or without it, exactly as the store holds it)."""

    line = fields.Integer(strict=True, required=True)
    kind = _str()
    period = _str()
    basis = Money(required=True, allow_none=True)
    rate = Money(required=True, allow_none=True)
    amount = Money(required=True)
    policy_version = _str()
    tier = StrictString(required=True, allow_none=True)
    threshold = Money(required=True, allow_none=True)
    reached = StrictBoolean(required=True, allow_none=True)
    rule = _str()
    why = StrictString()
    # Monthly and quarterly lines: the next rate up and the net sales it needs (R2, R3).
    next_threshold = Money(allow_none=True)
    next_rate = Money(allow_none=True)
    # Corrections only: the slip and dispute the correction comes from, and finance's note.
    slip_id = StrictString(allow_none=True)
    dispute = fields.Integer(strict=True, allow_none=True)
    note = StrictString()


class DecimalText(StrictString):
    """A decimal kept as its text (the policy's canonical form): "0.020" stays "0.020"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
            raise ValidationError("Not a decimal string.")
        return text


def _tiers(values: fields.Field) -> fields.Field:
    return fields.Dict(keys=fields.String(validate=validate.OneOf(["A", "AA", "SI", "END"])),
                       values=values, required=True)


class BracketSchema(Schema):
    threshold = DecimalText(required=True)
    rate = DecimalText(required=True)


def _section(name: str, **declared: fields.Field) -> fields.Field:
    return fields.Nested(Schema.from_dict(declared, name=f"Policy{name}Schema"), required=True)


def _whole() -> fields.Field:
    return fields.Integer(strict=True, required=True)


def _terms_schema(recorded: bool) -> type[Schema]:
    """R4: the terms of a policy version, as policy/default.toml writes one version: decimals as
    text, whole numbers as integers. `recorded`: as the log holds them, where a version published
    before a term of domain.policy.ADDED_TERMS existed lacks it."""

    def added() -> fields.Field:
        return fields.Integer(strict=True, required=not recorded)

    def added_text() -> fields.Field:
        return DecimalText(required=not recorded)

    tiers = validate.OneOf(["A", "AA", "SI", "END"])
    name = "Recorded" if recorded else ""
    return Schema.from_dict(
        {
            "seats": fields.Dict(keys=fields.String(validate=tiers),
                                 values=fields.Integer(strict=True), required=True),
            "discounts": _tiers(DecimalText()),
            "onboarding": _section(f"{name}Onboarding", forecast_months=_whole(),
                                   max_monthly_amount=added_text(), max_term_months=added()),
            "credit": _section(f"{name}Credit", multiple=DecimalText(required=True),
                               overdue_days=_whole(), qualifying_months=_whole(),
                               clean_months=_whole()),
            "monthly_rebate": _tiers(DecimalText()),
            "quarterly_rebate": fields.Dict(
                keys=fields.String(validate=tiers),
                values=fields.List(fields.Nested(BracketSchema)), required=True),
            "prices": fields.Nested(
                Schema.from_dict({"max_list_price": DecimalText(required=True)},
                                 name=f"Policy{name}PricesSchema"),
                required=not recorded),
            "spare_parts": _section(f"{name}SpareParts", rate=DecimalText(required=True),
                                    window_months=_whole(), max_draw_qty=added()),
            "performance": _section(f"{name}Performance", quota=DecimalText(required=True),
                                    bonus=DecimalText(required=True),
                                    probation_ratio=DecimalText(required=True),
                                    probation_months=_whole(), dismissal_months=_whole()),
            "orders": _section(f"{name}OrderBounds", max_lines=_whole(), max_qty=_whole(),
                               max_total=DecimalText(required=True)),
            "accounts": fields.Dict(keys=fields.String(), values=fields.String(),
                                    required=not recorded),
        },
        name=f"{name}PolicyTermsSchema",
    )


# The terms a new version states, every one (PUT /policy), and the terms of a recorded version
# (Policy.VersionPublished on Kafka), which may predate some of them.
PolicyTermsSchema: type[Schema] = _terms_schema(recorded=False)
RecordedPolicyTermsSchema: type[Schema] = _terms_schema(recorded=True)


class DisputedLineSchema(Schema):
    line = fields.Integer(strict=True, required=True)
    reason = _str()


# (event class qualname, field) -> the schema of one nested value; `many` for list fields.
NESTED: dict[tuple[str, str], tuple[type[Schema], bool]] = {
    ("Order.Placed", "lines"): (OrderLineSchema, True),
    ("Order.Returned", "lines"): (ReturnLineSchema, True),
    ("PriceList.VersionPublished", "items"): (PriceItemSchema, True),
    ("PriceList.ItemsStaged", "items"): (PriceItemSchema, True),
    ("PriceList.StagedVersionPublished", "items"): (PriceItemSchema, True),
    ("Dealer.ForecastSubmitted", "months"): (ForecastMonthSchema, True),
    ("CreditLine.Evaluated", "details"): (CreditDetailsSchema, False),
    ("RebateSlip.Issued", "lines"): (SlipLineSchema, True),
    ("RebateSlip.Disputed", "lines"): (DisputedLineSchema, True),
    ("Policy.VersionPublished", "terms"): (RecordedPolicyTermsSchema, False),
}


def field_for(hint: Any, where: str) -> fields.Field:
    """A marshmallow field for a type hint of an event field (required; None only if Optional)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        others = [a for a in args if a is not type(None)]
        if len(others) == 1 and len(args) == 2:
            inner = field_for(others[0], where)
            inner.allow_none = True
            return inner
        raise MissingSchemaError(f"{where}: cannot decode the union {hint}")
    simple: dict[Any, Any] = {
        str: lambda: StrictString(required=True),
        bool: lambda: StrictBoolean(required=True),
        int: lambda: fields.Integer(strict=True, required=True),
        Decimal: lambda: Money(required=True),
        date: lambda: fields.Date(required=True),
        datetime: lambda: fields.AwareDateTime(required=True),
        UUID: lambda: fields.UUID(required=True),
    }
    if hint in simple:
        return simple[hint]()
    if origin is list and len(args) == 1:
        return fields.List(field_for(args[0], f"{where}[]"), required=True)
    if origin is dict and len(args) == 2 and args[0] is str:
        return fields.Dict(keys=StrictString(), values=field_for(args[1], f"{where}{{}}"),
                           required=True)
    raise MissingSchemaError(
        f"{where}: the hint {hint} does not say how to decode the value; add an explicit "
        "schema to infra.envelope.NESTED"
    )


# --- the catalogue of event types ---------------------------------------------------------------


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

    @property
    def qualname(self) -> str:
        return _short(self.event_class)


def _data_schema(event_class: type, nested: Mapping[tuple[str, str], tuple[type[Schema], bool]]
                 ) -> Schema:
    hints = typing.get_type_hints(event_class)
    declared: dict[str, fields.Field] = {}
    for f in dataclass_fields(event_class):
        if f.name in _BASE_FIELDS:
            continue
        where = f"{_short(event_class)}.{f.name}"
        explicit = nested.get((_short(event_class), f.name))
        if explicit is not None:
            schema_class, many = explicit
            declared[f.name] = fields.Nested(schema_class, many=many, required=True)
        else:
            declared[f.name] = field_for(hints[f.name], where)
    return Schema.from_dict(declared, name=f"{_short(event_class)}Data")()


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
                version = getattr(attr, "class_version", 1)
                name = f"{TYPE_PREFIX}.{_snake(aggregate.__name__)}.{attr.__name__}.v{version}"
                entry = EventType(name, attr, aggregate, _data_schema(attr, nested),
                                  issubclass(attr, Aggregate.Created))
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

    def named(self, name: str) -> EventType | None:
        return self._by_name.get(name)


# --- the envelope -------------------------------------------------------------------------------


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

    def to_event(self) -> Aggregate.Event:
        """The domain event object, built as the application's mapper builds it."""
        state = dict(self.data)
        state["originator_id"] = self.subject
        state["originator_version"] = self.aggregateversion
        state["timestamp"] = self.time
        if self.type.created:
            state["originator_topic"] = get_topic(self.type.aggregate_class)
        event = object.__new__(self.type.event_class)
        object.__setattr__(event, "__dict__", state)
        return event


class Codec:
    """Encodes domain events as envelopes (validated by the schema before they leave) and decodes
    messages back, refusing anything that fails the schema with an EnvelopeError."""

    def __init__(self, catalog: EventCatalog | None = None, source: str = SOURCE) -> None:
        self.catalog = catalog or EventCatalog.of_domain()
        self.source = source
        self.schema = CloudEventSchema(self.catalog)

    def document(self, event: Any, *, position: int, predecessor: int,
                 partitionkey: str | None) -> dict[str, Any]:
        entry = self.catalog.for_event(event)
        state = vars(event)
        values = {k: v for k, v in state.items() if k not in _BASE_FIELDS}
        doc: dict[str, Any] = {
            "specversion": SPECVERSION,
            "id": event_id(event.originator_id, event.originator_version),
            "source": self.source,
            "type": entry.name,
            "subject": str(event.originator_id),
            "time": event.timestamp.isoformat(),
            "datacontenttype": DATACONTENTTYPE,
            "data": entry.data.dump(values),
            "position": position,
            "aggregateversion": event.originator_version,
            "predecessor": predecessor,
        }
        if partitionkey is not None:
            doc["partitionkey"] = partitionkey
        return doc

    def encode(self, event: Any, *, position: int, predecessor: int = 0,
               partitionkey: str | None = None) -> bytes:
        """The message value; raises EnvelopeError unless it decodes to the same event."""
        doc = self.document(event, position=position, predecessor=predecessor,
                            partitionkey=partitionkey)
        value = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        back = self.decode(value)
        if back.data != {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS}:
            raise EnvelopeError(
                f"{back.type.name} at position {position} does not survive the envelope: a "
                "nested value is missing from its schema in infra.envelope.NESTED"
            )
        return value

    def decode(self, value: bytes | str | None) -> Envelope:
        if value is None:
            raise EnvelopeError("empty message (no value)")
        try:
            doc = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise EnvelopeError(f"not a JSON document: {e}") from None
        if not isinstance(doc, dict):
            raise EnvelopeError("not a JSON object")
        try:
            loaded = self.schema.load(doc)
        except ValidationError as e:
            errors = e.normalized_messages()
            fields_named = ", ".join(sorted(str(k) for k in errors)) if isinstance(
                errors, dict) else "?"
            raise EnvelopeError(f"fails the envelope schema ({fields_named})", errors) from None
        entry = self.catalog.named(loaded["type"])
        assert entry is not None
        return Envelope(
            id=loaded["id"],
            source=loaded["source"],
            type=entry,
            subject=loaded["subject"],
            time=loaded["time"],
            position=loaded["position"],
            aggregateversion=loaded["aggregateversion"],
            predecessor=loaded["predecessor"],
            partitionkey=loaded["partitionkey"],
            data=loaded["data"],
        )
