"""Value objects shared by the aggregates: money, months, quarters, weeks, tiers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import InvalidInputError

CENT = Decimal("0.01")


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Parse a money or quantity value; never through float."""
    if isinstance(value, float):
        raise InvalidInputError(f"{field}: give money as a decimal string, not a float", field=field)
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInputError(f"{field}: {value!r} is not a decimal number", field=field) from None
    if not result.is_finite():
        raise InvalidInputError(f"{field}: {value!r} is not a finite number", field=field)
    return result


def to_whole(value: object, field: str) -> int:
    """Parse a whole number (a quantity, a term); floats and bools are refused, not truncated."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError
        return int(value)
    except ValueError:
        raise InvalidInputError(f"{field}: {value!r} is not a whole number", field=field) from None


def money(value: Decimal | int | str) -> Decimal:
    """Round to the cent, half up (RULES.md: money)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class Tier(StrEnum):
    A = "A"
    AA = "AA"
    SI = "SI"
    END = "END"

    @classmethod
    def parse(cls, value: str, field: str = "tier") -> Tier:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(t.value for t in cls)
            raise InvalidInputError(f"{field}: {value!r} is not one of {allowed}", field=field) from None


class Payment(StrEnum):
    PREPAID = "prepaid"
    CREDIT = "credit"


_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, field: str = "month") -> Month:
        m = _MONTH.fullmatch(text or "")
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise InvalidInputError(f"{field}: {text!r} is not a month YYYY-MM", field=field)
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def plus(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    def next(self) -> Month:
        return self.plus(1)

    def prev(self) -> Month:
        return self.plus(-1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def quarter(self) -> Quarter:
        return Quarter(self.year, (self.month - 1) // 3 + 1)

    def contains(self, day: date) -> bool:
        return day.year == self.year and day.month == self.month


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse(cls, text: str, field: str = "quarter") -> Quarter:
        m = _QUARTER.fullmatch(text or "")
        if not m:
            raise InvalidInputError(f"{field}: {text!r} is not a quarter YYYY-Qn", field=field)
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-Q{self.q}"

    @property
    def months(self) -> tuple[Month, Month, Month]:
        first = Month(self.year, (self.q - 1) * 3 + 1)
        return (first, first.plus(1), first.plus(2))

    @property
    def first_day(self) -> date:
        return self.months[0].first_day

    @property
    def last_day(self) -> date:
        return self.months[2].last_day


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week, YYYY-Www, Monday to Sunday."""

    year: int
    week: int

    @classmethod
    def parse(cls, text: str, field: str = "week") -> Week:
        m = _WEEK.fullmatch(text or "")
        if not m:
            raise InvalidInputError(f"{field}: {text!r} is not an ISO week YYYY-Www", field=field)
        try:
            date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            raise InvalidInputError(f"{field}: {text!r} is not an ISO week", field=field) from None
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def last_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)


def parse_period(text: str, field: str = "period") -> Month | Quarter:
    """A period is a month YYYY-MM or a quarter YYYY-Qn."""
    if _QUARTER.fullmatch(text or ""):
        return Quarter.parse(text, field)
    if _MONTH.fullmatch(text or ""):
        return Month.parse(text, field)
    raise InvalidInputError(f"{field}: {text!r} is neither YYYY-MM nor YYYY-Qn", field=field)
