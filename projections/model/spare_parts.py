"""The spare-parts family: each repair centre's pool (S1, and the national one), its monthly
allocations (S2) and its draws (S3), as the `SparePartsPool` events make them."""

from __future__ import annotations

from infra.sql import Db
from projections.model.base import handles
from projections.records import EventRecord, cents, day, dec

TABLES: dict[str, str] = {
    "pools": """
        pool TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, region TEXT NOT NULL,
        opened_on TEXT NOT NULL, opened_position BIGINT NOT NULL, closed_on TEXT,
        closed_position BIGINT""",
    "allocations": """
        pool TEXT NOT NULL, month TEXT NOT NULL, basis TEXT NOT NULL,
        amount_cents BIGINT NOT NULL, policy_version TEXT NOT NULL, position BIGINT NOT NULL,
        PRIMARY KEY (pool, month)""",
    "draws": """
        position BIGINT PRIMARY KEY, pool TEXT NOT NULL, drawn_on TEXT NOT NULL,
        part TEXT NOT NULL, qty INTEGER NOT NULL, value TEXT NOT NULL""",
}


@handles("SparePartsPool.Opened")
def _pool_opened(db: Db, r: EventRecord) -> None:
    db.execute(
        "INSERT INTO @pools (pool, aggregate_id, region, opened_on, opened_position) VALUES (?, ?, ?, ?, ?)",
        (r.data["pool"], r.aggregate_id, r.data["region"], day(r.data["opened_on"]).isoformat(), r.position),
    )


def _pool_name(db: Db, aggregate_id: str) -> str:
    return str(db.scalar("SELECT pool FROM @pools WHERE aggregate_id = ?", (aggregate_id,)))


@handles("SparePartsPool.Allocated")
def _allocated(db: Db, r: EventRecord) -> None:
    d = r.data
    db.execute(
        "INSERT INTO @allocations (pool, month, basis, amount_cents, policy_version, position) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            _pool_name(db, r.aggregate_id),
            d["month"],
            str(dec(d["basis"])),
            cents(d["amount"]),
            d["policy_version"],
            r.position,
        ),
    )


@handles("SparePartsPool.Drawn")
def _drawn(db: Db, r: EventRecord) -> None:
    d = r.data
    db.execute(
        "INSERT INTO @draws (position, pool, drawn_on, part, qty, value) VALUES (?, ?, ?, ?, ?, ?)",
        (
            r.position,
            _pool_name(db, r.aggregate_id),
            day(d["drawn_on"]).isoformat(),
            d["part"],
            int(d["qty"]),
            str(dec(d["value"])),
        ),
    )


@handles("SparePartsPool.Closed")
def _pool_closed(db: Db, r: EventRecord) -> None:
    db.execute(
        "UPDATE @pools SET closed_on = ?, closed_position = ? WHERE aggregate_id = ?",
        (day(r.data["closed_on"]).isoformat(), r.position, r.aggregate_id),
    )
