"""The policy family (R4): the policy versions the log records, from which every query reads its
rates, thresholds and quota numbers (`projections.queries.common`)."""

from __future__ import annotations

from infra.sql import Db
from projections.model.base import handles
from projections.records import EventRecord, day, to_json

TABLES: dict[str, str] = {
    # R4: the policy versions recorded in the log (one per effective day; a later publication for
    # the same day supersedes the earlier one), the terms as the canonical JSON of the event.
    "policy_versions": """
        effective_from TEXT PRIMARY KEY, version_id TEXT NOT NULL, number INTEGER NOT NULL,
        terms TEXT NOT NULL, note TEXT NOT NULL, position BIGINT NOT NULL""",
}


@handles("Policy.VersionPublished")
def _policy_published(db: Db, r: EventRecord) -> None:
    d = r.data
    on = day(d["effective_from"]).isoformat()
    db.execute("DELETE FROM @policy_versions WHERE effective_from = ?", (on,))
    db.execute(
        "INSERT INTO @policy_versions (effective_from, version_id, number, terms, note, position) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (on, d["version_id"], int(d["number"]), to_json(d["terms"]), d["note"], r.position),
    )
