"""The relay's encoder process (infra/relay/encoder.py) on a real PostgreSQL and broker: it gives
what the relay's own thread writes, batch for batch, wherever it is asked to start; a process
that dies is started again and nothing is skipped; one that cannot start leaves the relay reading
the log itself; a lost database connection comes back as the read's error, and the next read
works."""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError

from infra.envelope import Codec
from infra.persistence import parse_database_url
from infra.relay import EncoderProcess, EnvelopeWriter
from infra.relay.encoder import first_event
from infra.relay.log import LogReader
from services.bootstrap import relay_reader
from tests.builders import app_for_url
from tests.integration.kafka_scenario import read_topic
from tests.integration.test_relay import check_contract, relay_for
from tests.support.kafka import Broker
from tests.support.relay import no_application

pytestmark = pytest.mark.usefixtures("small_pools")


def test_the_encoder_process_gives_what_the_relays_thread_writes_wherever_it_starts(
    business: Any, pg_url: str,
) -> None:
    database = parse_database_url(pg_url)
    app = app_for_url(pg_url)
    reader = LogReader(app.recorder, database)
    writer = EnvelopeWriter(Codec(checked=False), app.mapper, first_event(app))
    encoder = EncoderProcess(relay_reader, database)
    head = business.head
    try:
        # In order (the stream goes on), jumping back and ahead (a new stream each time), bounded
        # and not, past the end (an empty batch, read again when asked again).
        asked = [(1, None), (8, None), (15, None), (3, 20), (10, 20), (17, 20), (head - 2, None),
                 (head + 1, None), (head + 1, None), (1, 1), (2, None)]
        for start, until in asked:
            expected = writer.items(reader.read(start, 7, until))
            assert encoder.items(start, 7, until) == expected, (start, until)
        assert encoder.starts == 1
        assert sum(1 for _, _, head_, row in writer.items(reader.read(1, head))
                   if row is not None and head_ is None) == 0, "every demo event written fast"
    finally:
        encoder.close()
        reader.close()
        app.close()
    assert not encoder.running


def test_a_relay_whose_encoder_process_dies_starts_it_again_and_skips_nothing(
    business: Any, pg_url: str, kafka_broker: Broker, kafka_topic: str,
) -> None:
    relay = relay_for(pg_url, kafka_broker.bootstrap, kafka_topic, batch_size=10, apart=True)
    encoder = relay.encoder
    assert encoder is not None
    items, asked = encoder.items, 0

    def dying(start: int, limit: int, until: int | None = None) -> Any:
        nonlocal asked
        asked += 1
        if asked in (2, 4):  # killed while it streams the next batches
            os.kill(encoder._process.pid, signal.SIGKILL)
            encoder._process.wait(10)
        return items(start, limit, until)

    encoder.items = dying  # type: ignore[method-assign]
    try:
        assert relay.run(until=business.head)
    finally:
        relay.close()
        relay.app.close()
    assert encoder.starts == 3
    check_contract(read_topic(kafka_broker.bootstrap, kafka_topic), business.head)


def test_a_relay_whose_encoder_process_cannot_start_reads_the_log_itself(
    business: Any, pg_url: str, kafka_broker: Broker, kafka_topic: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay = relay_for(pg_url, kafka_broker.bootstrap, kafka_topic, batch_size=50)
    relay.encoder = EncoderProcess(no_application, parse_database_url(pg_url))
    with caplog.at_level(logging.WARNING, logger="channel.relay"):
        try:
            assert relay.run(until=business.head)
        finally:
            relay.close()
            relay.app.close()
    assert relay.encoder.batches == 0
    assert any("RuntimeError: no application for postgres" in r.getMessage()
               and "reading the log in the relay's own process" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
    check_contract(read_topic(kafka_broker.bootstrap, kafka_topic), business.head)


def test_an_encoder_process_gives_a_lost_connection_as_the_reads_error_then_reads_on(
    business: Any, pg_url: str,
) -> None:
    database = parse_database_url(pg_url)
    encoder = EncoderProcess(relay_reader, database)
    try:
        first = encoder.items(1, 5)
        assert [item[0] for item in first] == [1, 2, 3, 4, 5]
        # Read to the end, so that it reads nothing ahead: the next read is the one asked for.
        start = 6
        while batch := encoder.items(start, 5):
            start = batch[-1][0] + 1
        # Its log reader's connection is the one that ran the log's SELECT last.
        with psycopg.connect(database.conninfo(), autocommit=True) as conn:
            ended = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> "
                "pg_backend_pid() AND query LIKE 'SELECT notification_id, originator_id%%'"
            ).fetchall()
        assert ended and all(done for (done,) in ended)
        with pytest.raises(PersistenceError, match="terminat"):
            encoder.items(6, 5)
        again = encoder.items(6, 5)
        assert [item[0] for item in again] == [6, 7, 8, 9, 10]
        assert encoder.starts == 1
    finally:
        encoder.close()


def test_a_relay_reads_in_its_encoder_process_only_what_that_process_writes_alike(
    business: Any, pg_url: str, kafka_broker: Broker, kafka_topic: str,
) -> None:
    """The process writes with the domain's catalogue, unchecked, and the relay's source."""
    relays = [relay_for(pg_url, kafka_broker.bootstrap, kafka_topic, apart=True, **kwargs)
              for kwargs in ({}, {"codec": Codec(source="urn:elsewhere", checked=False)},
                             {"codec": Codec(checked=True)})]
    try:
        plain, elsewhere, checked = relays
        assert plain.encoder is not None and plain.encoder.source == plain.codec.source
        assert elsewhere.encoder is not None and elsewhere.encoder.source == "urn:elsewhere"
        ((_, _, head, _),) = elsewhere.encoder.items(1, 1)
        assert head is not None and b',"source":"urn:elsewhere",' in head
        assert checked.encoder is None  # a checked codec writes every envelope itself
    finally:
        for relay in relays:
            relay.close()
            relay.app.close()
