"""Reading the terms of a policy version (R4): each term's type and ceiling for a new version, and
an older recorded version read as it was published."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain import limits
from domain.errors import InvalidInputError
from domain.values import CENT, Tier, to_decimal

ONE = Decimal(1)
# The accrual journal's accounts (domain/accruals.py), role -> code; a version recorded before the
# `accounts` section existed reads these.
DEFAULT_ACCOUNTS: dict[str, str] = {
    "rebate_expense": "6601.01",  # 销售费用-返点 / selling expense, rebates
    "rebate_accrued": "2241.01",  # 其他应付款-预提返点 / accrued rebates
    "rebate_payable": "2202.01",  # 应付账款-返点 / rebates payable (posted on a slip)
    "spare_parts_expense": "6601.02",  # 销售费用-备件 / selling expense, spare parts
    "spare_parts_fund": "2241.02",  # 其他应付款-备件基金 / spare-parts fund
}
_READ = object()  # "read the value at the path" (a value given instead comes from a list)


@dataclass(frozen=True)
class Terms:
    """Reads the terms of one version. `recorded`: terms from the log, read as they were
    published (`added` fills the terms an older version lacks; no ceiling is applied, so the log
    stays readable); otherwise a new version, which must state every term within its ceiling."""

    raw: Mapping[str, Any]
    recorded: bool
    added: Mapping[str, Any] = field(default_factory=dict)

    def get(self, path: str) -> Any:
        node: Any = self.raw
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                if self.recorded and path in self.added:
                    return self.added[path]
                raise InvalidInputError(f"policy: missing {path}", field=path)
            node = node[part]
        return node

    def section(self, path: str) -> Mapping[str, Any]:
        node = self.get(path)
        if not isinstance(node, Mapping):
            raise InvalidInputError(f"policy: {path} must be a table", field=path)
        return node

    def decimal(self, path: str, maximum: Decimal = limits.MAX_MONEY, value: Any = _READ) -> Decimal:
        value = self.get(path) if value is _READ else value
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise InvalidInputError(f"policy: {path} must be a decimal string", field=path)
        result = to_decimal(value, path)
        if result < 0:
            raise InvalidInputError(f"policy: {path} must not be negative", field=path)
        if not self.recorded and result > maximum:
            raise InvalidInputError(f"policy: {path} must be at most {maximum}", field=path)
        return result

    def money(self, path: str, maximum: Decimal = limits.MAX_MONEY) -> Decimal:
        """A bound in money: positive, whole cents."""
        result = self.decimal(path, maximum)
        if not self.recorded and (result <= 0 or result != result.quantize(CENT)):
            raise InvalidInputError(
                f"policy: {path} must be a positive amount in whole cents", field=path
            )
        return result

    def whole(self, path: str, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.get(path)
        top = None if self.recorded else maximum
        if (isinstance(value, bool) or not isinstance(value, int) or value < minimum
                or (top is not None and value > top)):
            within = f"≥ {minimum}" if top is None else f"from {minimum} to {top}"
            raise InvalidInputError(f"policy: {path} must be a whole number {within}", field=path)
        return value

    def code(self, path: str) -> str:
        """An account code: 1 to 20 digits, dots or dashes."""
        value = self.get(path)
        # ASCII digits: str.isdigit() would also take superscripts and other scripts' digits.
        if not isinstance(value, str) or not re.fullmatch(r"[0-9.-]{1,20}", value):
            raise InvalidInputError(f"policy: {path} must be an account code (digits, . or -)", field=path)
        return value

    def rates(self, path: str, maximum: Decimal = ONE) -> dict[Tier, Decimal]:
        return {
            Tier.parse(k, path): self.decimal(f"{path}.{k}", maximum, value=v)
            for k, v in self.section(path).items()
        }


def item(entry: Mapping[str, Any], key: str, where: str) -> Any:
    """A key of one entry of a list of terms (a bracket's threshold)."""
    if key not in entry:
        raise InvalidInputError(f"policy: missing {where}.{key}", field=f"{where}.{key}")
    return entry[key]
