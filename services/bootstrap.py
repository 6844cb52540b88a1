"""The composition root: the applications, runtimes, relay, reporting consumers and the HTTP app's
collaborators, each built from the settings. The `channel` commands, `create_app` and the tests
build through here; nothing else wires them together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, cast

from domain.policy import PolicyBook
from infra.persistence import Database, parse_database_url
from infra.settings import Settings
from projections.views import ChannelView, PostgresChannelView, SQLiteChannelView
from services.application import ChannelLedger
from services.runtimes.base import ReadState, Runtime, read_state
from services.runtimes.embedded import EmbeddedRuntime
from services.runtimes.postgres import PostgresRuntime, postgres_view

if TYPE_CHECKING:
    # Imported where they are built: a command that needs no broker or HTTP server does not load
    # the Kafka client or Flask.
    from infra.relay import KafkaOptions, Relay
    from services.consumer import ConsumerOptions, ReportingConsumer, ReportingView
    from services.http.keys import KeyStore


def build_application(
    settings: Settings,
    *,
    initial_policy: PolicyBook | None = None,
    clock: Callable[[], date] = date.today,
    open_policy: bool = True,
    ledger: type[ChannelLedger] = ChannelLedger,
) -> ChannelLedger:
    """`initial_policy` only matters for an empty store (its first policy versions); every figure
    reads the versions recorded in the log. `ledger`: the application class (the import's stages
    its saves, services/importer)."""
    database = parse_database_url(settings.CHANNEL_DATABASE_URL)
    return ledger(
        database.eventsourcing_env(),
        initial_policy=initial_policy,
        clock=clock,
        command_attempts=settings.CHANNEL_COMMAND_ATTEMPTS,
        open_policy=open_policy,
    )


# --- the read side in step with the write side -------------------------------------------------


def build_runtime(
    settings: Settings,
    *,
    initial_policy: PolicyBook | None = None,
    clock: Callable[[], date] = date.today,
    lead: bool = True,
    open_policy: bool = True,
    ledger: type[ChannelLedger] = ChannelLedger,
) -> Runtime:
    """`lead=False` (PostgreSQL only): never run the projections here, only wait for them.
    `initial_policy`: the first policy versions of an empty store (default policy/default.toml);
    the figures read the versions the log records. `open_policy`, `ledger`: as
    `build_application`."""
    app = build_application(
        settings, initial_policy=initial_policy, clock=clock, open_policy=open_policy, ledger=ledger
    )
    database = parse_database_url(settings.CHANNEL_DATABASE_URL)
    view = open_view(app, database)
    if isinstance(view, PostgresChannelView):
        return PostgresRuntime(app, view, settings.CHANNEL_READ_WAIT, database, lead)
    runtime = EmbeddedRuntime(app, view, settings.CHANNEL_READ_WAIT)
    runtime.sync(None)
    return runtime


def stored_read_state(app: ChannelLedger, database: Database) -> ReadState:
    """The read model's state as the store records it, read without feeding it."""
    view = open_view(app, database)
    try:
        return read_state(app, view)
    finally:
        if isinstance(view, PostgresChannelView):
            view.datastore.close()


def open_view(app: ChannelLedger, database: Database) -> ChannelView:
    """The read model's view of the application's store, not fed by anyone (a runtime feeds it)."""
    if database.is_postgres:
        return postgres_view(database.eventsourcing_env())
    # SQLite: the view shares the application's datastore (one file, or one in-memory database).
    return cast(ChannelView, app.factory.tracking_recorder(SQLiteChannelView))


# --- Kafka: the relay and the reporting consumers -----------------------------------------------


def relay_options(
    settings: Settings,
    *,
    bootstrap: str | None = None,
    topic: str | None = None,
    partitions: int | None = None,
) -> KafkaOptions:
    """How the relay talks to the broker: the settings CHANNEL_KAFKA_*, or what the command line
    gives instead."""
    from infra.relay import KafkaOptions

    return KafkaOptions(
        bootstrap=bootstrap or settings.CHANNEL_KAFKA_BOOTSTRAP,
        topic=topic or settings.CHANNEL_KAFKA_TOPIC,
        partitions=partitions or settings.CHANNEL_KAFKA_PARTITIONS,
        idempotence=settings.CHANNEL_KAFKA_IDEMPOTENCE,
        max_in_flight=settings.CHANNEL_KAFKA_MAX_IN_FLIGHT,
    )


def relay_application(settings: Settings) -> ChannelLedger:
    """The application the relay reads the log through: from one thread, so a small pool, and it
    writes nothing (not even the first policy version)."""
    return relay_reader(parse_database_url(settings.CHANNEL_DATABASE_URL))


def relay_reader(database: Database) -> ChannelLedger:
    """`relay_application` of a database: also the application of the relay's encoder process,
    which reaches it by name (infra/relay/encoder.py)."""
    from infra.relay import SMALL_POOL

    env = {**database.eventsourcing_env(), **(SMALL_POOL if database.is_postgres else {})}
    return ChannelLedger(env, open_policy=False)


def build_relay(
    settings: Settings,
    *,
    app: ChannelLedger | None = None,
    options: KafkaOptions | None = None,
    batch_size: int | None = None,
) -> Relay:
    """The relay of the store's log to Kafka; `app` and `options` default to `relay_application`
    and `relay_options`, `batch_size` to CHANNEL_RELAY_BATCH; on PostgreSQL it reads and writes
    in an encoder process of its own unless CHANNEL_RELAY_ENCODER is `thread`. The caller closes
    the application after the relay."""
    from infra.relay import EncoderProcess, Relay

    database = parse_database_url(settings.CHANNEL_DATABASE_URL)
    size = batch_size or settings.CHANNEL_RELAY_BATCH
    encoder = (EncoderProcess(relay_reader, database)
               if database.is_postgres and settings.CHANNEL_RELAY_ENCODER == "process" else None)
    return Relay(app or relay_application(settings), database, options or relay_options(settings),
                 batch_size=size, encoder=encoder)


def consumer_options(
    settings: Settings,
    *,
    bootstrap: str | None = None,
    topic: str | None = None,
    group: str | None = None,
    dead_letter_topic: str | None = None,
    max_poll_records: int | None = None,
) -> ConsumerOptions:
    """How a reporting consumer talks to the broker: the settings CHANNEL_KAFKA_*, or what the
    command line gives instead."""
    from services.consumer.state import MAX_POLL_RECORDS, ConsumerOptions

    return ConsumerOptions(
        bootstrap=bootstrap or settings.CHANNEL_KAFKA_BOOTSTRAP,
        topic=topic or settings.CHANNEL_KAFKA_TOPIC,
        group=group or settings.CHANNEL_KAFKA_GROUP,
        dead_letter_topic=dead_letter_topic or settings.CHANNEL_KAFKA_DEAD_LETTER_TOPIC,
        max_poll_interval_ms=settings.CHANNEL_KAFKA_MAX_POLL_INTERVAL_MS,
        session_timeout_ms=settings.CHANNEL_KAFKA_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=settings.CHANNEL_KAFKA_HEARTBEAT_INTERVAL_MS,
        max_poll_records=max_poll_records or MAX_POLL_RECORDS,
    )


def reporting_view(settings: Settings, url: str | None = None) -> ReportingView:
    """The read model's view on the reporting database (`url`, default
    CHANNEL_REPORTING_DATABASE_URL), its tables created if missing."""
    from services.consumer import open_reporting_view

    return open_reporting_view(url or settings.CHANNEL_REPORTING_DATABASE_URL)


def build_consumer(
    settings: Settings, view: ReportingView, options: ConsumerOptions | None = None
) -> ReportingConsumer:
    """A member of the reporting consumer group writing to `view`; `options` default to
    `consumer_options`."""
    from services.consumer import ReportingConsumer

    return ReportingConsumer(view, options or consumer_options(settings))


# --- the HTTP app's collaborators (besides the runtime) ------------------------------------------


def build_key_store(settings: Settings, *, bootstrap_keys: bool = True) -> KeyStore:
    """The API keys: the table in the store's database, and the bootstrap keys of
    CHANNEL_API_KEYS (or the embedded default's key file); `bootstrap_keys=False`: the table
    only (the server's master makes it before the workers start, when no key file may exist
    yet)."""
    from services.http.keys import KeyStore, bootstrap_file

    url = settings.CHANNEL_DATABASE_URL
    if not bootstrap_keys:
        return KeyStore.from_url(url)
    return KeyStore.from_url(url, bootstrap_file(settings.CHANNEL_API_KEYS, url))
