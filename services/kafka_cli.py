"""`channel relay` (the store's log to Kafka) and `channel consume` (Kafka to the reporting
database): long-running processes that stop cleanly on SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from domain.errors import InvalidInputError
from infra.settings import Settings


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    kafka = argparse.ArgumentParser(add_help=False)
    kafka.add_argument("--bootstrap", metavar="HOST:PORT",
                       help="Kafka bootstrap servers (default: CHANNEL_KAFKA_BOOTSTRAP)")
    kafka.add_argument("--topic", help="the events topic (default: CHANNEL_KAFKA_TOPIC)")
    kafka.add_argument("--verbose", action="store_true", help="log the Kafka client's chatter")

    relay = sub.add_parser("relay", parents=[common, kafka],
                           help="publish the store's events to Kafka (transactional outbox)")
    relay.add_argument("--partitions", type=int,
                       help="partitions of a topic the relay creates (CHANNEL_KAFKA_PARTITIONS)")
    relay.add_argument("--batch", type=int, help="events per batch (CHANNEL_RELAY_BATCH)")
    relay.add_argument("--once", action="store_true",
                       help="publish what the log holds now, then exit")
    relay.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                       help="--once: give up (exit 1) if not done within this (default 60)")
    relay.add_argument("--republish", action="store_true",
                       help="start over: publish the whole log again from position 1")
    relay.set_defaults(func=run_relay)

    consume = sub.add_parser("consume", parents=[common, kafka],
                             help="apply the events from Kafka to the reporting database")
    consume.add_argument("--reporting-database", metavar="URL",
                         help="the reporting database (CHANNEL_REPORTING_DATABASE_URL)")
    consume.add_argument("--group", help="the consumer group (CHANNEL_KAFKA_GROUP)")
    consume.add_argument("--dead-letter-topic",
                         help="where messages that fail the schema go "
                              "(CHANNEL_KAFKA_DEAD_LETTER_TOPIC)")
    consume.add_argument("--max-poll-records", type=int,
                         help="records per poll, at most (default: 2000, "
                              "services.consumer.state.MAX_POLL_RECORDS)")
    checks = consume.add_mutually_exclusive_group()
    checks.add_argument("--status", action="store_true",
                        help="print what the reporting database holds of the topic: partitions, "
                             "those stopped at a message they cannot apply, open holes; exit 1 "
                             "if any is stopped or any hole open")
    checks.add_argument("--resolve", metavar="PARTITION:OFFSET",
                        help="mark the hole a dead-lettered message left as resolved (with --note)")
    consume.add_argument("--note", default="", help="--resolve: how the hole was dealt with")
    consume.add_argument("--format", choices=("table", "json"), default="table",
                         help="--status: the output format")
    consume.set_defaults(func=run_consume)


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # kafka-python logs every refused connection while a broker is down; our own lines say it.
    logging.getLogger("kafka").setLevel(logging.INFO if verbose else logging.CRITICAL)


def _on_signals(stop: Callable[[], None]) -> None:
    def handler(signum: int, frame: Any) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_relay(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build_relay, relay_application, relay_options

    _logging(args.verbose)
    options = relay_options(settings, bootstrap=args.bootstrap, topic=args.topic,
                            partitions=args.partitions)
    if args.once:  # each broker call well inside the deadline, so the deadline holds
        options = replace(options, request_timeout_ms=max(
            500, min(options.request_timeout_ms, int(args.timeout * 500))))
    app = relay_application(settings)
    relay = build_relay(settings, app=app, options=options, batch_size=args.batch)
    _on_signals(relay.stop)
    if args.republish:
        relay.start_over("asked to republish")
    until = (app.recorder.max_notification_id() or 0) if args.once else None
    logging.getLogger("channel.relay").info(
        "relay: %s -> %s topic %s from position %d", settings.CHANNEL_DATABASE_URL,
        options.bootstrap, options.topic, relay.state.position + 1)
    # --once against a broker that does not answer: stop at the deadline and say so, exit 1.
    timer = threading.Timer(args.timeout, relay.stop) if until is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        done = relay.run(until=until)
    finally:
        if timer is not None:
            timer.cancel()
        relay.close()
        app.close()
    if until is not None and not done:
        raise InvalidInputError(
            f"relay --once: published up to position {relay.state.position} of {until} within "
            f"{args.timeout:g} s; is the broker at {options.bootstrap} up?", field="bootstrap")
    return 0


def run_consume(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build_consumer, consumer_options, reporting_view

    _logging(args.verbose)
    topic = args.topic or settings.CHANNEL_KAFKA_TOPIC
    options = consumer_options(
        settings, bootstrap=args.bootstrap, topic=topic, group=args.group,
        dead_letter_topic=args.dead_letter_topic, max_poll_records=args.max_poll_records,
    )
    url = args.reporting_database or settings.CHANNEL_REPORTING_DATABASE_URL
    if args.resolve and not args.note.strip():
        raise InvalidInputError("--resolve: say with --note how the hole was dealt with",
                                field="note")
    view = reporting_view(settings, url)
    if args.status or args.resolve:
        try:
            return _resolve(view, topic, args) if args.resolve else _status(view, topic, url, args)
        finally:
            view.datastore.close()
    consumer = build_consumer(settings, view, options)
    _on_signals(consumer.stop)
    logging.getLogger("channel.consume").info(
        "consume: %s topic %s group %s -> %s", options.bootstrap, topic, options.group, url)
    try:
        consumer.run()
    finally:
        view.datastore.close()
    return 0


def _status(view: Any, topic: str, url: str, args: argparse.Namespace) -> int:
    from services.consumer import reporting_status

    status = reporting_status(view, topic)
    if args.format == "json":
        print(json.dumps({"reporting_database": url, **status.as_dict()}, indent=2))
        return 0 if status.ok else 1
    stopped = {int(f.feed.rsplit(":", 1)[-1]): f for f in status.stopped}
    print(f"reporting database {url}, topic {topic}:")
    if not status.partitions:
        print("  nothing consumed yet")
    for partition, (position, offset) in sorted(status.partitions.items()):
        line = f"  partition {partition}: position {position}, next offset {offset}"
        fault = stopped.get(partition)
        if fault is not None:
            line += (f"; STOPPED at offset {fault.kafka_offset}, {fault.describe()} "
                     f"(since {fault.recorded_at})")
        print(line)
    for hole in status.holes:
        where = f"{hole.feed.rsplit(':', 1)[-1]}:{hole.kafka_offset}"
        print(f"  open hole: {hole.describe()}\n"
              f"    resolve with: channel consume --resolve {where} --note \"...\"")
    if status.ok:
        print("OK: no partition stopped, no open hole")
    else:
        print(f"NOT OK: {len(status.stopped)} partition(s) stopped, {len(status.holes)} open hole(s)")
    return 0 if status.ok else 1


def _resolve(view: Any, topic: str, args: argparse.Namespace) -> int:
    from services.consumer import resolve_hole

    partition, sep, offset = str(args.resolve).partition(":")
    if not sep or not partition.strip().isdigit() or not offset.strip().isdigit():
        raise InvalidInputError(f"--resolve: write PARTITION:OFFSET, not {args.resolve!r}",
                                field="resolve")
    if not resolve_hole(view, topic, int(partition), int(offset), args.note.strip()):
        raise InvalidInputError(f"--resolve: no open hole at {topic}[{partition}]@{offset}",
                                field="resolve")
    print(f"resolved the hole at {topic}[{partition}]@{offset}: {args.note.strip()}")
    return 0
