"""Shared by the Kafka tests: a scenario of many dealers run through the runtime (so the close's
process manager issues slips and allocations), `channel relay` / `channel consume` as real
processes, reading a topic back, and comparing the reporting tables with the in-process ones."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition

from domain.values import Month
from infra.envelope import Codec, Envelope, EnvelopeError
from infra.persistence import parse_database_url
from infra.relay import read_relay_state
from infra.settings import Settings
from projections.model import dump
from services.consumer import open_reporting_view, partition_name
from services.runtime import Runtime, build_runtime
from tests.builders import FORMAL_ON, POLICY, line, onboard, publish_prices
from tests.support import kill_with_parent

ROOT = Path(__file__).resolve().parents[2]
TIERS = ("A", "AA", "SI")
REGIONS = ("east", "north", "south")
PEOPLE = ("wang", "li", "zhang", "chen")


# Environment for the test process: small connection pools for the application, the projection
# runner and the views (the PostgreSQL server is shared; each pool would open 4 at once).
SMALL_POOLS = {f"{name}_{key}": value for name in ("CHANNELLEDGER", "CHANNELREADMODEL")
               for key, value in (("POSTGRES_POOL_SIZE", "1"), ("POSTGRES_MAX_OVERFLOW", "4"))}


# --- the scenario ----------------------------------------------------------------------------


@dataclass
class Scenario:
    """Dealers onboarded and ordering through the runtime; `part` adds a month of business."""

    runtime: Runtime
    dealers: list[str] = field(default_factory=list)
    refs: int = 0

    @property
    def app(self) -> Any:
        return self.runtime.app

    @property
    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def start(self, dealers: int) -> None:
        publish_prices(self.app)
        for i in range(dealers):
            tier = TIERS[i % len(TIERS)]
            self.dealers.append(onboard(
                self.app, "active", tier, REGIONS[i % len(REGIONS)], PEOPLE[i % len(PEOPLE)],
                name=f"Dealer {i}"))
        centre = self.dealers[0]  # tier A: the east region's repair centre (S1), a pool
        self.app.authorize_repair_centre(centre, FORMAL_ON)

    def month(self, month: Month, orders: int, *, close: bool = False) -> None:
        """Each dealer places, and takes delivery of, `orders` orders in `month`; one returns a
        line; with `close`, finance closes the month (a broadcast event, then slips and pools)."""
        day = month.first_day.replace(day=12)
        for dealer in self.dealers:
            for _ in range(orders):
                self.refs += 1
                order_id = str(self.app.place_order(
                    dealer, f"r{self.refs}", day, self.app.get_dealer(dealer).region, "prepaid",
                    [line("ROUTER", 2), line("SWITCH", 3)]).value.id)
                order = self.app.get_order(order_id)
                self.app.record_payment(order_id, day, order.total)
                self.app.ship_order(order_id, day)
                self.app.deliver_order(order_id, day.replace(day=14))
        self.app.return_order_lines(order_id, day.replace(day=20), [{"sku": "SWITCH", "qty": 1}])
        if close:
            done = self.app.close_period(month, month.plus(1).first_day)
            self.runtime.sync(done.position)

    def in_process_tables(self) -> dict[str, Any]:
        self.runtime.refresh()
        with self.runtime.view.reading() as db:
            return dump(db)


def scenario(store_url: str) -> Scenario:
    settings = replace(Settings(), CHANNEL_DATABASE_URL=store_url, CHANNEL_READ_WAIT=30.0)
    return Scenario(build_runtime(settings, initial_policy=POLICY, clock=lambda: date(2026, 1, 2)))


@contextlib.contextmanager
def month_of_business(store_url: str, *, dealers: int, orders: int) -> Iterator[Scenario]:
    """A scenario's store with `dealers` dealers and a closed month of `orders` orders each
    (events for one dealer and for all)."""
    made = scenario(store_url)
    try:
        made.start(dealers=dealers)
        made.month(Month(2026, 1), orders=orders, close=True)
        yield made
    finally:
        made.runtime.close()


def reporting_tables(url: str) -> dict[str, Any]:
    view = open_reporting_view(url)
    try:
        with view.reading() as db:
            return dump(db)
    finally:
        view.datastore.close()


# --- processes -------------------------------------------------------------------------------


class Process:
    """`channel <args>` as a child process logging to a file; kill() is kill -9."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in wait()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args], cwd=ROOT, env={**os.environ, **env},
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=kill_with_parent())

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        if self.alive:
            self.popen.send_signal(signal.SIGKILL)
        self.wait()

    def stop(self) -> None:
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        self.wait()

    def wait(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=15)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Deployment:
    """The environment of the relay and consumers of one test, and the processes started."""

    store_url: str
    reporting_url: str
    bootstrap: str
    topic: str
    log_dir: Path
    # A group of its own: a member that left (or was killed) in an earlier test must not hold up
    # this test's rebalance.
    group: str = field(default_factory=lambda: f"reporting-{uuid.uuid4().hex[:8]}")
    processes: list[Process] = field(default_factory=list)

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.topic}.dlt"

    def env(self) -> dict[str, str]:
        return {
            "CHANNEL_DATABASE_URL": self.store_url,
            "CHANNEL_REPORTING_DATABASE_URL": self.reporting_url,
            "CHANNEL_KAFKA_BOOTSTRAP": self.bootstrap,
            "CHANNEL_KAFKA_TOPIC": self.topic,
            "CHANNEL_KAFKA_GROUP": self.group,
            "CHANNEL_KAFKA_DEAD_LETTER_TOPIC": self.dead_letter_topic,
            "CHANNEL_KAFKA_PARTITIONS": "3",
        }

    def start(self, command: str, *args: str, name: str | None = None) -> Process:
        label = name or f"{command}-{len(self.processes)}"
        process = Process(label, [command, *args], self.env(), self.log_dir)
        self.processes.append(process)
        return process

    def relay_position(self) -> int:
        return read_relay_state(parse_database_url(self.store_url), self.topic).position

    def relay_state(self) -> Any:
        return read_relay_state(parse_database_url(self.store_url), self.topic)

    def published_positions(self) -> dict[int, int]:
        """The last position the relay published to each partition (what consumers must reach)."""
        return {p: link.position for p, link in self.relay_state().links.items()}

    def reporting_positions(self, partitions: int = 3) -> dict[int, int]:
        """The last position applied from each partition, read straight from the tracking table
        (cheap enough to poll)."""
        names = {partition_name(self.topic, p): p for p in range(partitions)}
        found = dict.fromkeys(range(partitions), 0)
        with contextlib.suppress(psycopg.errors.UndefinedTable), \
                connection(self.reporting_url) as conn:
            rows = conn.execute(
                "SELECT application_name, notification_id FROM channelreadmodel_tracking "
                "WHERE application_name = ANY(%s)", (list(names),)).fetchall()
            for name, position in rows:
                found[names[name]] = int(position)
        return found

    def consumed_all(self) -> bool:
        published = self.published_positions()
        reached = self.reporting_positions()
        return bool(published) and all(reached.get(p, 0) >= pos for p, pos in published.items())

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-3000:]}" for p in self.processes)

    def close(self) -> None:
        for process in self.processes:
            process.stop()


def wait_for(condition: Callable[[], bool], what: str, *, timeout: float = 60.0,
             deployment: Deployment | None = None, every: float = 0.1) -> None:
    """Poll `condition` until it holds; fail naming `what` (and the processes' logs) if it never
    does within `timeout` — a bound on a hang, not a timed assertion."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = deployment.logs() if deployment else ""
            raise AssertionError(f"{what}: not within {timeout}s\n{logs}")
        time.sleep(every)


# --- reading a topic back ---------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    partition: int
    offset: int
    key: bytes | None
    envelope: Envelope | None
    value: bytes


def read_topic(bootstrap: str, topic: str, partitions: int = 3,
               timeout: float = 30.0) -> dict[int, list[Message]]:
    """Every message of every partition, in offset order (read up to the high watermark)."""
    codec = Codec()
    reader = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                           allow_auto_create_topics=False, fetch_max_wait_ms=100)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    result: dict[int, list[Message]] = {p: [] for p in range(partitions)}
    try:
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        done: set[int] = set()
        while len(done) < partitions:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end")
            for tp, records in reader.poll(timeout_ms=300).items():
                for r in records:
                    try:
                        envelope: Envelope | None = codec.decode(r.value)
                    except EnvelopeError:
                        envelope = None
                    result[tp.partition].append(Message(tp.partition, r.offset, r.key, envelope,
                                                        r.value))
            for tp in tps:
                highwater = reader.highwater(tp)
                if highwater is not None and reader.position(tp) >= highwater:
                    done.add(tp.partition)
    finally:
        reader.close()
    return result


def positions_in(messages: list[Message]) -> list[int]:
    return [m.envelope.position for m in messages if m.envelope is not None]


@contextlib.contextmanager
def connection(url: str) -> Iterator[psycopg.Connection[Any]]:
    database = parse_database_url(url)
    with psycopg.connect(database.conninfo(), autocommit=True) as conn:
        if database.schema:
            conn.execute(f'SET search_path TO "{database.schema}"')
        yield conn
