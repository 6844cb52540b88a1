"""What the read side could not apply: a feed stopped at an event (`rm_read_faults`), and the holes
dead-lettered Kafka messages may leave (`rm_read_holes`). Bookkeeping, not figures."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from eventsourcing.persistence import ConnectionPoolClosedError, ConnectionUnavailableError

from domain.errors import ChannelError
from projections.views import ChannelView

log = logging.getLogger("channel.read_model")

REASON_LENGTH = 500  # a reason is one line of a log or a health answer, not a traceback

# PostgreSQL error classes that say the server or the connection is unavailable for a while,
# not that the event is wrong: connection (08), rollback (40, serialization and deadlocks),
# resources (53), operator intervention (57), system (58), and lock_not_available.
_TRANSIENT_CLASSES = ("08", "40", "53", "57", "58")
_TRANSIENT_STATES = ("55P03",)


def reason_of(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 1] + "…"


def event_kind(topic: str) -> str:
    """`Order.Delivered` from a stored event's topic `domain.order:Order.Delivered`."""
    return topic.rsplit(":", 1)[-1]


def is_transient(error: BaseException) -> bool:
    """True for an error of the database's availability (retried, never recorded as a fault of
    the event); False for an error the event causes each time it is applied."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (psycopg.InterfaceError, ConnectionUnavailableError,
                                ConnectionPoolClosedError)):
            return True
        if isinstance(current, psycopg.OperationalError):
            state = getattr(current, "sqlstate", None)
            # No SQLSTATE: the client lost the server (or the pool timed out).
            return state is None or state.startswith(_TRANSIENT_CLASSES) or state in _TRANSIENT_STATES
        if isinstance(current, sqlite3.OperationalError):
            # Also "no such column" and the like, which the event's handler causes every time.
            return "locked" in str(current) or "busy" in str(current)
        current = current.__cause__ or current.__context__
    return False


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class ReadFault:
    """A feed stopped at an event: `feed` is its tracking name (the store's application name, or
    `kafka:<topic>:<partition>`), `position` the event's log position."""

    feed: str
    position: int
    event_type: str
    reason: str
    recorded_at: str = ""
    recorded_by: str = ""
    kafka_offset: int | None = None

    def describe(self) -> str:
        return f"log position {self.position} ({self.event_type}): {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"stopped_at": self.position, "event_type": self.event_type,
                                 "reason": self.reason, "since": self.recorded_at}
        if self.kafka_offset is not None:
            found["offset"] = self.kafka_offset
        return found


class ApplyError(Exception):
    """The read model cannot apply this event, alone in a transaction of its own."""

    def __init__(self, position: int, event_type: str, reason: str):
        super().__init__(f"the read model cannot apply log position {position} ({event_type}): {reason}")
        self.position = position
        self.event_type = event_type
        self.reason = reason

    def fault(self, feed: str, kafka_offset: int | None = None) -> ReadFault:
        return ReadFault(feed, self.position, self.event_type, self.reason, now(), process_name(),
                         kafka_offset)


class ReadModelStoppedError(ChannelError):
    """A read of a read model that stopped at an event (HTTP 503, naming the position)."""

    def __init__(self, fault: ReadFault, position: int):
        super().__init__(
            f"the read model stopped at {fault.describe()}; it is at log position {position} and "
            "answers again once the cause is fixed and the service restarted"
        )
        self.fault = fault
        self.position = position

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, **self.fault.as_dict()}


# --- the fault records -------------------------------------------------------------------------

_FAULT_COLUMNS = "feed, position, event_type, reason, recorded_at, recorded_by, kafka_offset"


def _fault(row: Any) -> ReadFault:
    offset = row["kafka_offset"]
    return ReadFault(row["feed"], int(row["position"]), row["event_type"], row["reason"],
                     row["recorded_at"], row["recorded_by"], None if offset is None else int(offset))


# A feed (the store's log, or one Kafka partition) that meets an event it cannot apply stops at
# it, never skips it: a read model with a hole gives wrong figures.
def record(view: ChannelView, fault: ReadFault) -> None:
    """In a transaction of its own: the failed batch's has rolled back."""
    with view.writing() as db:
        db.execute(
            f"INSERT INTO @read_faults ({_FAULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (feed) DO UPDATE SET position = excluded.position, "
            "event_type = excluded.event_type, reason = excluded.reason, "
            "recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by, "
            "kafka_offset = excluded.kafka_offset",
            (fault.feed, fault.position, fault.event_type, fault.reason, fault.recorded_at,
             fault.recorded_by, fault.kafka_offset),
        )


def recorded(view: ChannelView, feed: str) -> ReadFault | None:
    with view.reading() as db:
        row = db.one(f"SELECT {_FAULT_COLUMNS} FROM @read_faults WHERE feed = ?", (feed,))
    return None if row is None else _fault(row)


def recorded_all(view: ChannelView, prefix: str = "") -> list[ReadFault]:
    """Every fault recorded for the feeds whose name starts with `prefix` (a few rows: filtered
    here, as a topic's name may hold LIKE's wildcards)."""
    with view.reading() as db:
        rows = db.all(f"SELECT {_FAULT_COLUMNS} FROM @read_faults ORDER BY feed")
    return [_fault(r) for r in rows if r["feed"].startswith(prefix)]


def stopped(view: ChannelView, feed: str, position: int | Callable[[], int]) -> ReadFault | None:
    """The fault the feed is stopped at, given its tracked position (read only when a fault is
    recorded). A record whose event has been applied since (by a restart, before the record was
    cleared) stops nothing."""
    fault = recorded(view, feed)
    if fault is None or fault.position <= (position if isinstance(position, int) else position()):
        return None
    return fault


def clear(view: ChannelView, feed: str, through: int) -> bool:
    """Forget the feed's fault once its position is applied; True if there was one."""
    with view.writing() as db:
        found = db.one("SELECT position FROM @read_faults WHERE feed = ? AND position <= ?",
                       (feed, through))
        if found is None:
            return False
        db.execute("DELETE FROM @read_faults WHERE feed = ? AND position <= ?", (feed, through))
    return True


# --- holes: messages dead-lettered ---------------------------------------------------------------


@dataclass(frozen=True)
class Hole:
    """A message of `feed` at `kafka_offset` that could not be decoded and went to the dead-letter
    topic. `position` is the log position it held, when known (from the message itself, or from
    the `predecessor` of the message after it); None when unknown."""

    feed: str
    kafka_offset: int
    position: int | None
    digest: str
    reason: str
    recorded_at: str
    resolved_at: str | None = None
    resolution: str | None = None

    def describe(self) -> str:
        where = f"log position {self.position}" if self.position is not None else "log position unknown"
        return f"{self.feed}@{self.kafka_offset} ({where}), dead-lettered {self.recorded_at}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"feed": self.feed, "offset": self.kafka_offset, "position": self.position,
                "reason": self.reason, "recorded_at": self.recorded_at,
                "resolved_at": self.resolved_at, "resolution": self.resolution}


_HOLE_COLUMNS = "feed, kafka_offset, position, digest, reason, recorded_at, resolved_at, resolution"


def _hole(row: Any) -> Hole:
    position = row["position"]
    return Hole(row["feed"], int(row["kafka_offset"]), None if position is None else int(position),
                row["digest"], row["reason"], row["recorded_at"], row["resolved_at"],
                row["resolution"])


def digest(value: bytes | None) -> str:
    return hashlib.sha256(value or b"").hexdigest()


def record_hole(view: ChannelView, hole: Hole) -> None:
    """A message dead-lettered again (read once more from the start of its partition) keeps its
    first record."""
    with view.writing() as db:
        db.execute(
            f"INSERT INTO @read_holes ({_HOLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL) "
            "ON CONFLICT (feed, kafka_offset) DO UPDATE SET position = excluded.position, "
            "digest = excluded.digest, reason = excluded.reason, "
            "recorded_at = excluded.recorded_at, resolved_at = NULL, resolution = NULL "
            "WHERE @read_holes.digest <> excluded.digest",
            (hole.feed, hole.kafka_offset, hole.position, hole.digest, hole.reason,
             hole.recorded_at),
        )


def hole_at(view: ChannelView, feed: str, kafka_offset: int) -> Hole | None:
    with view.reading() as db:
        row = db.one(f"SELECT {_HOLE_COLUMNS} FROM @read_holes WHERE feed = ? AND kafka_offset = ?",
                     (feed, kafka_offset))
    return None if row is None else _hole(row)


def holes(view: ChannelView, prefix: str = "", *, unresolved: bool = True) -> list[Hole]:
    """The holes of the feeds whose name starts with `prefix` (open ones only, by default)."""
    clause = " WHERE resolved_at IS NULL" if unresolved else ""
    with view.reading() as db:
        rows = db.all(f"SELECT {_HOLE_COLUMNS} FROM @read_holes{clause} ORDER BY feed, kafka_offset")
    return [_hole(r) for r in rows if r["feed"].startswith(prefix)]


def place_hole(view: ChannelView, feed: str, kafka_offset: int, position: int) -> None:
    """The log position a hole held, learnt from the message after it."""
    with view.writing() as db:
        db.execute("UPDATE @read_holes SET position = ? WHERE feed = ? AND kafka_offset = ?",
                   (position, feed, kafka_offset))


def resolve_hole(view: ChannelView, feed: str, kafka_offset: int, resolution: str) -> bool:
    """Mark an open hole resolved, saying how; False if there is no open hole there."""
    with view.writing() as db:
        found = db.one("SELECT feed FROM @read_holes WHERE feed = ? AND kafka_offset = ? "
                       "AND resolved_at IS NULL", (feed, kafka_offset))
        if found is None:
            return False
        db.execute("UPDATE @read_holes SET resolved_at = ?, resolution = ? "
                   "WHERE feed = ? AND kafka_offset = ?", (now(), resolution, feed, kafka_offset))
    return True
