"""The read side's own records: which errors are the event's (a fault) and which the database's
(retried), a fault record and its clearing, a hole recorded once per message and resolved."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from projections import faults
from projections.faults import ApplyError, Hole, is_transient
from tests.unit.test_projection import fresh_view


def wrapped(error: Exception) -> Exception:
    """As the library's datastores raise a driver's error: its own class, the driver's as cause."""
    try:
        raise OperationalError(str(error)) from error
    except OperationalError as outer:
        return outer


@pytest.mark.parametrize("error", [
    psycopg.OperationalError("server closed the connection unexpectedly"),  # no SQLSTATE
    psycopg.errors.LockNotAvailable(),
    psycopg.errors.SerializationFailure(),
    psycopg.errors.AdminShutdown(),
    psycopg.InterfaceError("the connection is closed"),
    sqlite3.OperationalError("database is locked"),
], ids=type)
def test_an_error_of_the_databases_availability_is_not_a_fault_of_the_event(error: Exception) -> None:
    assert is_transient(error) and is_transient(wrapped(error))


@pytest.mark.parametrize("error", [
    psycopg.errors.ProgramLimitExceeded(),  # e.g. an index row too big: the event, each time
    psycopg.errors.NumericValueOutOfRange(),
    psycopg.errors.UndefinedColumn(),
    sqlite3.OperationalError("no such column: total"),
    KeyError("value"),
    ValueError("cannot read this delivery"),
], ids=type)
def test_an_error_the_event_causes_each_time_is_a_fault(error: Exception) -> None:
    assert not is_transient(error) and not is_transient(wrapped(error))


def test_a_fault_is_recorded_once_per_feed_stops_until_its_position_is_applied_then_clears() -> None:
    view = fresh_view()
    first = ApplyError(7, "Order.Delivered", "ValueError: one").fault("ChannelLedger")
    faults.record(view, first)
    again = ApplyError(7, "Order.Delivered", "ValueError: two").fault("ChannelLedger")
    faults.record(view, again)  # the same feed met it again: one record, the latest reason
    assert faults.recorded_all(view) == [again]
    assert faults.stopped(view, "ChannelLedger", 6) == again
    assert faults.stopped(view, "ChannelLedger", 7) is None  # applied since: stops nothing
    assert faults.clear(view, "ChannelLedger", 6) is False
    assert faults.clear(view, "ChannelLedger", 7) is True
    assert faults.recorded(view, "ChannelLedger") is None


def test_a_hole_is_kept_once_per_message_and_reopened_only_for_another_message_at_its_offset() -> None:
    view = fresh_view()
    feed = "kafka:t:0"
    hole = Hole(feed, 12, None, faults.digest(b"garbage"), "EnvelopeError: not JSON", faults.now())
    faults.record_hole(view, hole)
    faults.place_hole(view, feed, 12, 40)
    assert faults.resolve_hole(view, feed, 12, "rebuilt") is True
    assert faults.resolve_hole(view, feed, 12, "twice") is False
    faults.record_hole(view, hole)  # the same message dead-lettered again: still resolved
    (kept,) = faults.holes(view, feed, unresolved=False)
    assert (kept.position, kept.resolution) == (40, "rebuilt")
    assert faults.holes(view, feed) == []
    faults.record_hole(view, Hole(feed, 12, None, faults.digest(b"other"), "EnvelopeError: x",
                                  faults.now()))  # a new log at that offset (a broker that lost it)
    (reopened,) = faults.holes(view, feed)
    assert (reopened.position, reopened.resolved_at) == (None, None)
    assert faults.holes(view, "kafka:u:") == []
