"""Typed values carried inside events: the lines of an order (P3, P4) and of a return (O3), the
months of a forecast (D2), the lines of a dispute (R6), and the line a client asks for.

Each is a frozen dataclass. The store writes it through a library transcoding named after it
(infra/transcodings.py); the envelope and the HTTP answers derive their schemas from its fields
(infra/envelope/lines.py). Events stored before these types existed hold plain objects; each
event that carries them upcasts those (`upcast_lines`), so every reader sees the typed value.

`RequestedLine.parse` is the one place a requested line is checked (sku, qty, asked price): the
HTTP schema, the CLI and the import hand it what they read, and the order's rules (P1, P3, O1)
work on the parsed values."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from decimal import Decimal
from typing import Any, TypeVar

from domain.errors import InvalidInputError
from domain.limits import MAX_MONEY
from domain.values import money, to_decimal, to_whole


@dataclass(frozen=True)
class OrderLine:
    """A priced line of a placed order: what was asked and the prices in force (P3, P4)."""

    sku: str
    name: str
    qty: int
    unit_price: Decimal
    tier_price: Decimal
    list_price: Decimal
    floor_price: Decimal
    amount: Decimal
    asked_price: Decimal | None  # the price the client asked, when it asked one (P3)


@dataclass(frozen=True)
class ReturnLine:
    """A returned quantity of an order's line, valued at the price it was sold at (O3)."""

    sku: str
    qty: int
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class ForecastMonth:
    """One month of a dealer's forecast (D2)."""

    month: str
    amount: Decimal


@dataclass(frozen=True)
class DisputedLine:
    """A line of a rebate slip the dealer disputes, with the dealer's reason (R6)."""

    line: int
    reason: str


VALUE_TYPES: tuple[type, ...] = (OrderLine, ReturnLine, ForecastMonth, DisputedLine)

V = TypeVar("V")


def as_value(cls: type[V], item: V | Mapping[str, Any]) -> V:
    """`item` as a `cls`: an event stored before the type existed holds its fields as an object."""
    if isinstance(item, cls):
        return item
    assert isinstance(item, Mapping), f"{cls.__name__}: {item!r}"
    names = [f.name for f in dataclass_fields(cls)]  # type: ignore[arg-type]
    return cls(**{n: item[n] for n in names if n in item})


def upcast_lines(cls: type, key: str = "lines") -> Callable[[MutableMapping[str, Any]], None]:
    """An `upcast_v1_v2` for an event whose `key` held plain objects before it held `cls`."""

    def upcast(state: MutableMapping[str, Any]) -> None:
        state[key] = [as_value(cls, item) for item in state[key]]

    return upcast


@dataclass(frozen=True)
class RequestedLine:
    """A line as a client asks for it: a sku, a whole quantity > 0, perhaps a price (P3)."""

    sku: str
    qty: int
    unit_price: Decimal | None = None

    @classmethod
    def parse(cls, raw: object, index: int, price: bool = True) -> RequestedLine:
        """The line at `lines[index]` checked once; errors name the field. A price beyond every
        amount (`limits.MAX_MONEY`) is kept as given, to be refused above the list price (P3)."""
        if isinstance(raw, RequestedLine):
            return raw
        if not isinstance(raw, Mapping):
            raise InvalidInputError(f"lines[{index}]: a line is an object", field=f"lines[{index}]")
        sku = raw.get("sku")
        where = f"lines[{index}].sku"
        if sku is None or not str(sku).strip():
            raise InvalidInputError(f"{where}: must not be empty", field=where)
        where = f"lines[{index}].qty"
        qty = to_whole(raw.get("qty"), where)
        if qty <= 0:
            raise InvalidInputError(f"{where}: must be greater than 0", field=where)
        asked = raw.get("unit_price") if price else None
        unit_price = None if asked is None else to_decimal(asked, f"lines[{index}].unit_price")
        return cls.of(str(sku).strip(), qty, unit_price)

    @classmethod
    def of(cls, sku: str, qty: int, unit_price: Decimal | None = None) -> RequestedLine:
        """A line whose fields a schema has checked: the asked price rounded to the cent."""
        if unit_price is not None and abs(unit_price) <= MAX_MONEY:
            unit_price = money(unit_price)
        return cls(sku, qty, unit_price)

    @classmethod
    def parse_all(cls, raw: Sequence[object], price: bool = True) -> list[RequestedLine]:
        return [cls.parse(line, index, price) for index, line in enumerate(raw)]
