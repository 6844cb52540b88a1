"""The periods family's tables and handlers (O6): the closed months, and the bookkeeping of what
each close set off (R5 slips, S2 allocations), kept by the close's process manager."""

from __future__ import annotations

from datetime import date

from domain.values import Month
from infra.sql import Db
from projections.model.base import handles
from projections.records import EventRecord, day

TABLES: dict[str, str] = {
    "closes": """
        month TEXT PRIMARY KEY, closed_on TEXT NOT NULL, position BIGINT NOT NULL""",
    # The close's process manager marks here what it has done (not a figure; see runtime).
    "followups": """
        month TEXT PRIMARY KEY, close_position BIGINT NOT NULL, done_position BIGINT""",
}
# Not rebuilt from the log alone: left out when two builds of the read model are compared.
BOOKKEEPING = ("followups",)


@handles("AccountingCalendar.MonthClosed")
def _month_closed(db: Db, r: EventRecord) -> None:
    # A consumer that receives the close more than once (one copy per Kafka partition) keeps one.
    month = r.data["month"]
    if db.one("SELECT month FROM @closes WHERE month = ?", (month,)) is not None:
        return
    db.execute(
        "INSERT INTO @closes (month, closed_on, position) VALUES (?, ?, ?)",
        (month, day(r.data["closed_on"]).isoformat(), r.position),
    )
    db.execute("INSERT INTO @followups (month, close_position) VALUES (?, ?)", (month, r.position))


def pending(db: Db) -> list[tuple[Month, int, date]]:
    """Closes the projection has seen whose follow-up is not yet done, in month order: (month,
    the close's log position, its closing day)."""
    rows = db.all(
        "SELECT f.month, f.close_position, c.closed_on FROM @followups f "
        "JOIN @closes c ON c.month = f.month WHERE f.done_position IS NULL ORDER BY f.month"
    )
    return [
        (Month.parse(r["month"]), int(r["close_position"]), date.fromisoformat(r["closed_on"]))
        for r in rows
    ]


def mark_done(db: Db, month: Month, done: int) -> None:
    """The close of `month` has been carried out; `done` is the last position it wrote."""
    db.execute(
        "UPDATE @followups SET done_position = ? WHERE month = ? AND done_position IS NULL",
        (done, str(month)),
    )


def settle_from_log(db: Db) -> None:
    """Mark each close's follow-up done where the log holds what it wrote (its slips, its
    allocations): the queries then treat the month as the live side does, posted not accrued.
    The live side keeps this bookkeeping as it goes; a replay reads it off the log."""
    for row in db.all("SELECT month, close_position FROM @followups WHERE done_position IS NULL"):
        done = db.scalar(
            "SELECT MAX(p) FROM (SELECT position AS p FROM @slips WHERE close_position = ? "
            "UNION ALL SELECT position AS p FROM @allocations WHERE month = ?) AS written",
            (row["close_position"], row["month"]),
        )
        if done is not None:
            db.execute("UPDATE @followups SET done_position = ? WHERE month = ?", (int(done), row["month"]))

