"""The one JSON encoding of the project's values outside the envelope's schemas: Decimal as a
decimal string without exponent ("12000.00"), dates and times ISO, UUIDs and enums by value, sets
as lists. Used by the read model's JSON columns, the reports, the audit's output and the HTTP
app's JSON provider."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


def default(obj: Any) -> Any:
    """`json.dumps(default=...)`: what the json module cannot write itself."""
    if isinstance(obj, Decimal):
        return format(obj, "f")
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, UUID):
        return str(obj)
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False,
          compact: bool = False) -> str:
    """`value` as JSON text; `compact`: no spaces (stored text), else readable (non-ASCII kept)."""
    if compact:
        return json.dumps(value, default=default, sort_keys=sort_keys, separators=(",", ":"))
    return json.dumps(value, default=default, indent=indent, sort_keys=sort_keys,
                      ensure_ascii=False)
