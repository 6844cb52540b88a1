"""The read model's one registry: every family's tables, indexes and event handlers, used alike
by the views (store, replay), the Kafka consumer and the audit's comparison."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TypeVar

from infra.sql import Db
from projections.model import dealers, faults, orders, periods, policy, slips, spare_parts
from projections.model.base import HANDLERS, apply_all

# The same DDL on SQLite and PostgreSQL: dates are ISO text, money summed in SQL is whole cents
# (exact on both databases), other money decimal text. The tables hold facts only: rates and
# thresholds are applied by the queries, from the policy versions the log records (projected like
# any other event). Events that carry no figure the read model shows (credit, roster, prices) are
# tracked only.
__all__ = ["BOOKKEEPING", "HANDLERS", "INDEXES", "TABLES", "apply_all", "create_tables", "dump"]

FAMILIES: tuple[ModuleType, ...] = (dealers, orders, periods, spare_parts, slips, policy, faults)

T = TypeVar("T")


def _merged(parts: Iterable[Mapping[str, T]], what: str) -> dict[str, T]:
    merged: dict[str, T] = {}
    for part in parts:
        for key, value in part.items():
            if key in merged:
                raise ValueError(f"{what} {key} is declared by two read-model families")
            merged[key] = value
    return merged


# HANDLERS: every family's, registered by `@handles` as the families are imported above.
TABLES: dict[str, str] = _merged((f.TABLES for f in FAMILIES), "the table")
INDEXES: dict[str, str] = _merged((getattr(f, "INDEXES", {}) for f in FAMILIES), "the index")
# Tables that are not rebuilt from the log alone: the process manager's bookkeeping and the read
# side's own (faults, holes).
BOOKKEEPING: tuple[str, ...] = tuple(t for f in FAMILIES for t in getattr(f, "BOOKKEEPING", ()))


def create_tables(db: Db) -> None:
    for name, columns in TABLES.items():
        db.execute(f"CREATE TABLE IF NOT EXISTS @{name} ({columns})")
    for name, target in INDEXES.items():
        index = f"rm_{name}"
        table, cols = target.split(" ", 1)
        db.execute(f"CREATE INDEX IF NOT EXISTS {index} ON @{table} {cols}")


def dump(db: Db) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted: to compare two builds of the read model."""
    result: dict[str, list[tuple[object, ...]]] = {}
    for name in TABLES:
        if name in BOOKKEEPING:
            continue
        rows = db.all(f"SELECT * FROM @{name}")
        result[name] = sorted(
            (tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in rows),
            key=repr,
        )
    return result
