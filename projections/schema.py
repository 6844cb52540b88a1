"""The read-model tables, the same DDL on SQLite and PostgreSQL. Dates are ISO text, money that is
summed in SQL is whole cents (exact on both databases), other money is decimal text."""

from __future__ import annotations

from projections.sql import Db

TABLES: dict[str, str] = {
    "dealers": """
        dealer_id TEXT PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL,
        contact TEXT NOT NULL, tier TEXT NOT NULL, salesperson TEXT NOT NULL,
        status TEXT NOT NULL, registered_on TEXT NOT NULL, registered_position BIGINT NOT NULL,
        draft_signed_on TEXT, agreement_signed_on TEXT, agreement_position BIGINT,
        monthly_amount TEXT, term_months INTEGER, start_month TEXT, first_order_id TEXT,
        repair_centre_since TEXT, terminated_on TEXT, terminated_position BIGINT""",
    # R4: the tier on a date; D8: the owner on a date. One row per change, in log order.
    "dealer_tiers": """
        dealer_id TEXT NOT NULL, position BIGINT NOT NULL, effective_on TEXT NOT NULL,
        tier TEXT NOT NULL, PRIMARY KEY (dealer_id, position)""",
    "dealer_owners": """
        dealer_id TEXT NOT NULL, position BIGINT NOT NULL, effective_on TEXT NOT NULL,
        salesperson TEXT NOT NULL, PRIMARY KEY (dealer_id, position)""",
    "forecasts": """
        dealer_id TEXT NOT NULL, month TEXT NOT NULL, amount TEXT NOT NULL,
        position BIGINT NOT NULL, PRIMARY KEY (dealer_id, month)""",
    # K1 channel progress: registrations, draft and formal agreements, first orders.
    "progress": """
        position BIGINT NOT NULL, kind TEXT NOT NULL, dealer_id TEXT NOT NULL,
        salesperson TEXT NOT NULL, on_date TEXT NOT NULL, PRIMARY KEY (position, kind)""",
    "orders": """
        order_id TEXT PRIMARY KEY, dealer_id TEXT NOT NULL, client_ref TEXT NOT NULL,
        order_date TEXT NOT NULL, region TEXT NOT NULL, ship_to_region TEXT NOT NULL,
        salesperson TEXT NOT NULL, payment TEXT NOT NULL, status TEXT NOT NULL,
        total_cents BIGINT NOT NULL, paid_cents BIGINT NOT NULL, returned_cents BIGINT NOT NULL,
        needs_approval INTEGER NOT NULL, confirmed_on TEXT, shipped_on TEXT, delivered_on TEXT,
        position BIGINT NOT NULL""",
    "order_lines": """
        order_id TEXT NOT NULL, line_no INTEGER NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL,
        qty INTEGER NOT NULL, unit_price TEXT NOT NULL, amount_cents BIGINT NOT NULL,
        PRIMARY KEY (order_id, line_no)""",
    # O5: net sales facts, + delivered / − returned, by business date.
    "sales": """
        position BIGINT PRIMARY KEY, kind TEXT NOT NULL, order_id TEXT NOT NULL,
        dealer_id TEXT NOT NULL, region TEXT NOT NULL, salesperson TEXT NOT NULL,
        order_date TEXT NOT NULL, business_date TEXT NOT NULL, value_cents BIGINT NOT NULL,
        lines TEXT""",
    "closes": """
        month TEXT PRIMARY KEY, closed_on TEXT NOT NULL, position BIGINT NOT NULL""",
    # The close's process manager marks here what it has done (not a figure; see runtime).
    "followups": """
        month TEXT PRIMARY KEY, close_position BIGINT NOT NULL, done_position BIGINT""",
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
    "slips": """
        slip_id TEXT PRIMARY KEY, dealer_id TEXT NOT NULL, period TEXT NOT NULL,
        status TEXT NOT NULL, issued_on TEXT NOT NULL, close_position BIGINT NOT NULL,
        lines TEXT NOT NULL, disputes TEXT NOT NULL, confirmed_on TEXT, position BIGINT NOT NULL""",
    # R4: the policy versions recorded in the log (one per effective day; a later publication for
    # the same day supersedes the earlier one), the terms as the canonical JSON of the event.
    "policy_versions": """
        effective_from TEXT PRIMARY KEY, version_id TEXT NOT NULL, number INTEGER NOT NULL,
        terms TEXT NOT NULL, note TEXT NOT NULL, position BIGINT NOT NULL""",
    # R5/R6: posted entries (from issued slips) and corrections (from accepted disputes).
    "rebate_entries": """
        entry_id TEXT PRIMARY KEY, dealer_id TEXT NOT NULL, period TEXT NOT NULL,
        kind TEXT NOT NULL, basis_cents BIGINT, rate TEXT, amount_cents BIGINT NOT NULL,
        policy_version TEXT NOT NULL, tier TEXT, threshold TEXT, detail TEXT,
        slip_id TEXT NOT NULL, position BIGINT NOT NULL""",
    # Bookkeeping of the read side itself (projections/faults.py): a feed stopped at an event it
    # cannot apply (the store's log, or one Kafka partition), and Kafka messages dead-lettered.
    "read_faults": """
        feed TEXT PRIMARY KEY, position BIGINT NOT NULL, event_type TEXT NOT NULL,
        reason TEXT NOT NULL, recorded_at TEXT NOT NULL, recorded_by TEXT NOT NULL,
        kafka_offset BIGINT""",
    "read_holes": """
        feed TEXT NOT NULL, kafka_offset BIGINT NOT NULL, position BIGINT, digest TEXT NOT NULL,
        reason TEXT NOT NULL, recorded_at TEXT NOT NULL, resolved_at TEXT, resolution TEXT,
        PRIMARY KEY (feed, kafka_offset)""",
}

INDEXES: dict[str, str] = {
    "sales_by_date": "sales (business_date)",
    "sales_by_dealer": "sales (dealer_id, business_date)",
    "orders_by_dealer": "orders (dealer_id)",
    "entries_by_period": "rebate_entries (period, dealer_id)",
    "slips_by_dealer": "slips (dealer_id, period)",
}

# Tables that are not rebuilt from the log alone: the process manager's bookkeeping and the read
# side's own (faults, holes).
BOOKKEEPING = ("followups", "read_faults", "read_holes")


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
