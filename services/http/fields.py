"""marshmallow fields for the HTTP contract: money and rates as decimal strings, business dates,
months, quarters and ISO weeks, each documented in the OpenAPI schema by type and pattern. Money and
the strict boolean are the wire's own fields (infra.envelope), which Kafka's envelope uses too."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate
from marshmallow.types import ErrorMessages

from domain.errors import InvalidInputError
from domain.limits import FIRST_DAY, LAST_DAY
from domain.values import Month, Week, money, parse_period
from infra.envelope import Money
from infra.envelope.fields import MONEY_IN, POSITIVE_MONEY_IN, SIGNED_MONEY_IN

# ASCII digits only ([0-9], not \d: Python's \d also takes full-width and Arabic-Indic digits,
# which the OpenAPI document's ECMA patterns do not). Money in requests: MONEY_IN and its kinds
# (infra.envelope's, which the policy terms use too).
MONEY_OUT = r"^-?[0-9]+\.[0-9]{2}$"
DECIMAL_OUT = r"^-?[0-9]+(\.[0-9]+)?$"
YEAR = r"(19|2[0-9])[0-9]{2}"  # 1900-2999 (domain.limits)
MONTH = rf"^{YEAR}-(0[1-9]|1[0-2])$"
QUARTER = rf"^{YEAR}-Q[1-4]$"
DATE = rf"^{YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# The strict boolean's message at the HTTP edge (infra.envelope.StrictBoolean's own is Kafka's).
YES_OR_NO: ErrorMessages = {"invalid": "give true or false"}
PERIOD = rf"^{YEAR}-((0[1-9]|1[0-2])|Q[1-4])$"
# An ISO year has 53 weeks only when it ends on a Thursday (or a Friday after a leap year): those
# years are named, so that the document's pattern admits exactly the weeks that exist.
_LONG_YEARS = "|".join(str(y) for y in range(1900, 3000) if date(y, 12, 28).isocalendar()[1] == 53)
WEEK = rf"^({YEAR}-W(0[1-9]|[1-4][0-9]|5[0-2])|({_LONG_YEARS})-W53)$"
# Text a person typed holds no control character but tab, newline and carriage return.
_CONTROLS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f"
NO_CONTROL = f"^[^{_CONTROLS}]*$"
# The blanks Python's str.strip() takes off that NO_CONTROL lets through (str.isspace(), named one
# by one: a pattern's \s is another set); a text that must be given holds something else too.
BLANKS = "\\t\\n\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
FILLED = f"^[^{_CONTROLS}]*[^{_CONTROLS}{BLANKS}][^{_CONTROLS}]*$"


class Amount(Money):
    """Money in an answer: a decimal string rounded to the cent, possibly negative (`"12000.00"`).
    The decimal-string rule itself is the wire's (infra.envelope.Money), shared with Kafka."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        super().__init__(metadata={"pattern": MONEY_OUT, "example": "12000.00", **metadata}, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(money(value))


class MoneyIn(Amount):
    """Money in a request: at most two decimals (and not negative unless `signed`). Numbers are
    refused, so that no amount ever passes through a float; answered as an Amount, since forecast
    months go both ways."""

    default_error_messages = {"not_text": 'give money as a decimal string, e.g. "12000.00"'}

    def __init__(self, *, signed: bool = False, positive: bool = False, **kwargs: Any) -> None:
        pattern = SIGNED_MONEY_IN if signed else POSITIVE_MONEY_IN if positive else MONEY_IN
        self.pattern = re.compile(pattern)
        self.kind = ("" if signed else " greater than 0" if positive else " (and not negative)")
        metadata = kwargs.pop("metadata", {})
        super().__init__(metadata={"pattern": pattern, **metadata}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        # The text is checked before it becomes a Decimal, which would accept "1e5" or " 12".
        if isinstance(value, str) and not self.pattern.fullmatch(value):
            raise ValidationError(f"{value!r} is not an amount with at most two decimals{self.kind}")
        found: Decimal = super()._deserialize(value, attr, data, **kwargs)
        return found


class DecimalString(Money):
    """A rate or ratio as a decimal string, unrounded: `"0.020"` (answers only)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        super().__init__(metadata={"pattern": DECIMAL_OUT, "example": "0.020", **metadata}, **kwargs)


class BusinessDate(fields.Date):
    """An ISO date, `YYYY-MM-DD` in ASCII digits (not `20260402`), between 1900 and 2999."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        super().__init__(metadata={"pattern": DATE, "example": "2026-07-01", **metadata}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if isinstance(value, str) and not re.fullmatch(DATE, value):
            raise ValidationError(f"{value!r} is not a date YYYY-MM-DD from {FIRST_DAY} to "
                                  f"{LAST_DAY}")
        day = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(f"dates run from {FIRST_DAY} to {LAST_DAY}")
        return day


class _Text(fields.String):
    """A string checked by a domain parser, which gives the field's error message."""

    regex = ""
    example = ""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        kwargs["metadata"] = {"pattern": self.regex, "example": self.example, **metadata}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(self.regex, text):
            raise ValidationError(f"{text!r} is not {self.metadata.get('description', 'valid')}")
        try:
            return self.parse(text)
        except InvalidInputError as e:
            raise ValidationError(e.message) from None

    def parse(self, text: str) -> str:
        return text


class MonthField(_Text):
    regex = MONTH
    example = "2026-07"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("description", "a month YYYY-MM")
        super().__init__(**kwargs)

    def parse(self, text: str) -> str:
        return str(Month.parse(text))


class PeriodField(_Text):
    regex = PERIOD
    example = "2026-Q3"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault(
            "description", "a month YYYY-MM or a quarter YYYY-Qn"
        )
        super().__init__(**kwargs)

    def parse(self, text: str) -> str:
        return str(parse_period(text))


class WeekField(_Text):
    regex = WEEK
    example = "2026-W28"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("description", "an ISO week YYYY-Www")
        super().__init__(**kwargs)

    def parse(self, text: str) -> str:
        return str(Week.parse(text))


class Count(fields.Integer):
    """A JSON integer (not a boolean, not a float, not a string)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return int(super()._deserialize(value, attr, data, **kwargs))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Text(fields.String):
    """Text a person typed: no control characters (a NUL cannot be stored in a PostgreSQL text
    column, so it would stall the projections) and valid Unicode, trimmed of outer blanks. Its
    length bounds are the text's as sent (the document's minLength and maxLength); a text that
    must be given (a length of at least 1) must not be blank either (the FILLED pattern)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        given = kwargs.get("validate")
        checks = [] if given is None else [given] if callable(given) else list(given)
        self.lengths = [v for v in checks if isinstance(v, validate.Length)]
        self.filled = any((v.min or 0) >= 1 for v in self.lengths)
        pattern = FILLED if self.filled else NO_CONTROL
        super().__init__(metadata={"pattern": pattern, **metadata}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _CONTROL.search(text):
            raise ValidationError("must not contain control characters")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("is not valid Unicode text") from None
        for length in self.lengths:
            length(text)
        if self.filled and not text.strip():
            raise ValidationError("must not be blank")
        return text.strip()

