"""What the import says of each row: imported, already present, or rejected with the line, the
column, the RULES.md id and the reason. A refusal of the domain keeps the rule it names; a value
that cannot be read is reported under the rule that says what the row must give (O1, O3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import ChannelError, ConcurrencyError, NotFoundError, RuleViolationError
from services.importer.layout import Unit

# kind: a business rule refused the row (the API's 409), a value cannot be read or is missing
# (the API's 422), or the row names a dealer or order that does not exist (the API's 404).
REFUSED, INVALID, UNKNOWN = "refused", "invalid", "unknown"
IMPORTED, PRESENT = "imported", "present"
REPORT_COLUMNS = ("line", "client_ref", "field", "rule", "kind", "message")
_LINE = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


@dataclass(frozen=True)
class Rejection:
    line: int
    client_ref: str
    field: str
    rule: str
    kind: str
    message: str

    def as_row(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in REPORT_COLUMNS}

    def describe(self) -> str:
        return f"line {self.line}: {self.field} [{self.rule}] {self.message}"


@dataclass(frozen=True)
class Problem:
    """What is wrong, at the unit's row `index` (None: with the unit as a whole)."""

    index: int | None
    field: str
    message: str


class Rejected(Exception):  # an outcome of a unit, not a failure of the import
    """A unit refused: nothing of it is written."""

    def __init__(self, rule: str, kind: str, problems: list[Problem]) -> None:
        super().__init__(problems[0].message)
        self.rule, self.kind, self.problems = rule, kind, problems

    def rejections(self, unit: Unit) -> list[Rejection]:
        """One per row of the unit: a row at fault with its own column and reason, the others
        refused with it."""
        own: dict[int, Problem] = {}
        for p in self.problems:
            if p.index is not None:
                own.setdefault(min(p.index, len(unit.rows) - 1), p)
        first = self.problems[0]
        found = []
        for index, row in enumerate(unit.rows):
            problem = own.get(index)
            if problem is None and first.index is None:
                problem = first
            if problem is None:
                at = unit.rows[min(first.index or 0, len(unit.rows) - 1)].line
                problem = Problem(index, first.field, f"refused with line {at}: {first.message}")
            found.append(Rejection(row.line, unit.client_ref, problem.field, self.rule, self.kind,
                                   problem.message))
        return found


def locate(field: str | None, names: Mapping[str, str], default: str) -> tuple[int | None, str]:
    """The unit's row and the CSV column a command's or schema's field names: `lines[2].qty` is the
    third row's qty; `names` renames the others (decided_on: approved_on)."""
    if field is None:
        return None, default
    found = _LINE.match(field)
    if found:
        return int(found.group(1)), names.get(found.group(2) or "", found.group(2) or default)
    return None, names.get(field, field)


def from_error(error: ChannelError, rule: str, names: Mapping[str, str], default: str) -> Rejected:
    """A refusal of a command as the import reports it; `rule` where the error names none."""
    if isinstance(error, RuleViolationError | ConcurrencyError):
        kind = REFUSED
    elif isinstance(error, NotFoundError):
        kind = UNKNOWN
    else:
        kind = INVALID
    index, column = locate(error.field, names, default)
    return Rejected(error.rule or rule, kind, [Problem(index, column, error.message)])


def from_messages(
    messages: Mapping[str, Any], rule: str, names: Mapping[str, str], default: str
) -> Rejected:
    """marshmallow's field-by-field messages ({"lines": {0: {"qty": [...]}}}) as the import
    reports them: the same checks as the API's 422."""
    problems = []
    for path, text in _flatten(messages, []):
        where = path[0] if len(path) == 1 else f"{path[0]}[{path[1]}]" + (
            f".{path[2]}" if len(path) > 2 else "")
        index, column = locate(str(where), names, default)
        problems.append(Problem(index, column, text))
    return Rejected(rule, INVALID, problems or [Problem(None, default, "invalid")])


def _flatten(messages: Any, path: list[Any]) -> list[tuple[list[Any], str]]:
    if isinstance(messages, Mapping):
        return [x for k, v in messages.items() for x in _flatten(v, [*path, k])]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(path, " ".join(messages))]
    if isinstance(messages, list):
        return [x for m in messages for x in _flatten(m, path)]
    return [(path, str(messages))]
