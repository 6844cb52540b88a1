"""What the relay sends, written from the log's rows: each event's partition key and its envelope up
to the predecessor (`EnvelopeWriter`), in the relay's own thread or, on PostgreSQL, in a process of
its own (`EncoderProcess`).

The producer's `send()` costs the relay's thread as much as everything else it does for a message
(reading the row, writing the envelope from the stored state, finding the key), and the
interpreter runs one thread at a time: in a process of its own, reading and writing run on the
machine's other core while the relay's thread sends. The process reads the log on a connection of
its own, writes what `EnvelopeWriter` writes for each row and reads the next batch ahead while the
relay sends this one; the relay adds the predecessors (they follow from what it has published) and
sends. An event the writer cannot write from its stored state comes back as its row, which the
relay encodes through the mapper and the codec, as it always did.

The process holds nothing the relay needs to resume: the keys it remembers are read again from
the log. An error in it (the database unreachable) comes back as the error of the read, so the
relay retries as it would in its own thread; a process that died or stopped answering is started
again on the next read; one that cannot start leaves the relay reading in its own thread."""

from __future__ import annotations

import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeAlias
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError

from infra.envelope import Codec
from infra.envelope.stored import StoredEnvelopes
from infra.heap import COLLECT_EVERY, collector_paused, freeze_long_lived
from infra.persistence import Database
from infra.relay.keys import PartitionKeys
from infra.relay.log import LogReader, Row

# One event of the log as the relay sends it: its position, its partition key (None: every
# partition) and either its envelope up to the predecessor (`StoredEnvelopes.head`) or, when that
# cannot be written from the stored state, its row (for the mapper and the codec). A plain tuple:
# the process sends thousands a second.
Item: TypeAlias = tuple[int, str | None, bytes | None, Row | None]


def first_event(app: Any) -> Callable[[UUID], Any]:
    """The first event of an aggregate, read from the application's store (for `PartitionKeys`)."""

    def load(aggregate_id: UUID) -> Any:
        return next(iter(app.events.get(aggregate_id, lte=1)), None)

    return load


class EnvelopeWriter:
    """The items of rows of the log (see `Item`), as `codec` (unchecked) writes `mapper`'s events;
    `keys` remembers the aggregates' keys from one batch to the next."""

    def __init__(self, codec: Codec, mapper: Any, load_first: Callable[[UUID], Any]) -> None:
        self.envelopes = StoredEnvelopes(codec, mapper)
        self.keys = PartitionKeys(load_first)
        self.mapper = mapper

    def items(self, rows: Sequence[Row]) -> list[Item]:
        items: list[Item] = []
        append, envelopes, keys, event = (items.append, self.envelopes, self.keys,
                                          self.mapper.to_domain_event)
        for row in rows:
            position, originator_id, version, topic, state = row
            kind = envelopes.kind(topic)
            stored = envelopes.read(kind, originator_id, state)
            if stored is None:
                append((position, keys.key_for(event(row)), None, row))
            else:
                key = keys.key_of(kind.event_class, originator_id, stored.fields, event, row)
                append((position, key, envelopes.head(kind, position, originator_id, version,
                                                      stored), None))
        return items


# What opens the process's application on the store's database (a function of a module, such as
# services.bootstrap's, so that it reaches the new process by name).
OpenApp = Callable[[Database], Any]


class EncoderLost(PersistenceError):
    """The encoder process died or stopped answering (it is started again on the next read)."""


class EncoderUnavailable(RuntimeError):
    """The encoder process could not be started."""


class EncoderProcess:
    """The relay's reads of the log and its envelopes, in a process of its own (see the module's
    docstring). `items(start, limit, until)` gives the items from position `start` (at most
    `limit`, none after `until`); `close` ends the process.

    The process streams: told where to start, it sends batch after batch, each as soon as it is
    written, until it reaches `until` or the log's end (an empty batch), so that the next batch
    is waiting when the relay asks for it. Each start is a new stream, numbered; what is left of
    an older one is dropped. It writes ahead while at most AHEAD batches wait to be sent, no
    further. `source` is the envelopes' (the relay sets its codec's)."""

    def __init__(self, open_app: OpenApp, database: Database, *, source: str | None = None,
                 answer_seconds: float = 120.0, start_seconds: float = 120.0) -> None:
        self.open_app = open_app
        self.database = database
        self.source = source
        self.answer_seconds = answer_seconds
        self.start_seconds = start_seconds
        self._process: Any = None
        self._conn: Any = None
        self._stream = 0  # the number of the last stream asked for
        self._next: tuple[int, int, int | None] | None = None  # where that stream goes on
        self.batches = 0  # batches it gave (for tests and the benchmark)
        self.starts = 0  # times the process was started

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the process (if it is not running) and wait until it is ready to read. It is
        `main` of this module in a new interpreter, on a socket of its own (never a fork of a
        process with threads, and nothing of the caller's main module run again), told what to
        open by the first message."""
        if self.running:
            return
        self.close()
        ours, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parents[2])  # where the `infra` package is
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", "from infra.relay.encoder import main; main()",
                 str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path})
        except OSError as e:
            ours.close()
            raise EncoderUnavailable(f"the encoder process cannot start ({e})") from None
        finally:
            theirs.close()
        self._process, self._conn = process, Connection(ours.detach())
        self._next = None
        self.starts += 1
        try:
            self._conn.send((self.open_app, self.database, self.source))
            answer = self._receive(self.start_seconds)[1]
        except Exception as e:
            self.close()
            raise EncoderUnavailable(f"{type(e).__name__}: {e}") from None
        if answer != "ready":
            self.close()
            raise EncoderUnavailable(f"the encoder process answered {answer!r}")

    def items(self, start: int, limit: int, until: int | None = None) -> list[Item]:
        if not self.running:
            self.start()
        if self._next != (start, limit, until):  # not where the stream goes on: a new one
            self._stream += 1
            self._next = None
            try:
                self._conn.send((self._stream, start, limit, until))
            except (OSError, EOFError) as e:
                self.close()
                raise EncoderLost(
                    f"the encoder process is gone ({type(e).__name__}: {e})") from None
        while True:
            try:
                stream, items = self._receive(self.answer_seconds)
            except Exception:
                self._next = None  # the stream ended with the error
                raise
            if stream == self._stream:
                break  # else what was left of an older stream
        following = _after(items, until)
        self._next = None if following is None else (following, limit, until)
        self.batches += 1
        return items

    def _receive(self, seconds: float) -> tuple[int, Any]:
        """The process's next message (its stream's number, what it holds); raises the error it
        sent."""
        try:
            if not self._conn.poll(seconds):
                self.close()
                raise EncoderLost(f"the encoder process did not answer within {seconds:g} s")
            kind, stream, value = pickle.loads(self._conn.recv_bytes())
        except (OSError, EOFError) as e:
            self.close()
            raise EncoderLost(f"the encoder process is gone ({type(e).__name__}: {e})") from None
        if kind == "error" and stream in (0, self._stream):
            raise value
        return stream, value

    def close(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            with suppress(OSError, EOFError):
                conn.send(None)
            conn.close()
        if process is not None:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _error(e: BaseException) -> BaseException:
    """The error as the relay's thread raises it: a database's as a PersistenceError (the relay
    retries those), any other as itself when it can be sent, else as a RuntimeError."""
    if isinstance(e, PersistenceError | psycopg.Error):
        return PersistenceError(f"{type(e).__name__}: {e}")
    try:
        pickle.loads(pickle.dumps(e))
    except Exception:
        return RuntimeError(f"{type(e).__name__}: {e}")
    return e


# Batches the encoder process has written and not yet sent, at most (a batch does not fit in a
# socket's buffer: written and waiting, the next is written while the relay sends this one).
AHEAD = 2


class _Outbox:
    """The process's messages, sent in order by a thread of their own: the socket takes one
    batch while the next is written."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._send, name="encoder-send", daemon=True)
        self.thread.start()

    def send(self, kind: str, stream: int, value: Any) -> None:
        if self.failed is not None:
            raise BrokenPipeError(f"the relay is gone ({self.failed})")
        self.queue.put(pickle.dumps((kind, stream, value), protocol=pickle.HIGHEST_PROTOCOL))

    def _send(self) -> None:
        while (data := self.queue.get()) is not None:
            try:
                self.conn.send_bytes(data)
            except OSError as e:
                self.failed = e
                while self.queue.get() is not None:  # nothing waits on a full queue
                    pass
                return

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(5)


def serve(conn: Any, open_app: OpenApp, database: Database, source: str | None) -> None:
    """The encoder process (see `EncoderProcess`): told (stream, start, limit, until), it sends
    that stream's batches (of `limit` events at most) one after the other until `until` or the
    log's end, or until told another; it ends when the relay closes the socket."""

    outbox = _Outbox(conn)
    send = outbox.send
    try:
        app = open_app(database)
        reader = LogReader(app.recorder, database)
        codec = Codec(checked=False) if source is None else Codec(source=source, checked=False)
        writer = EnvelopeWriter(codec, app.mapper, first_event(app))
    except BaseException as e:
        send("error", 0, _error(e))
        outbox.close()
        return
    freeze_long_lived()
    send("ready", 0, "ready")
    # The stream's number, where its next batch starts, its batches' size, its end.
    streaming: tuple[int, int, int, int | None] | None = None
    since = 0  # events written since the young generations were collected
    try:
        # As in the relay's thread: the cyclic collector paused while batches are written, young
        # generations collected after every COLLECT_EVERY events and whenever it waits.
        with collector_paused() as collect:
            while True:
                if streaming is None or conn.poll(0):  # told where (again), or when to end
                    collect()
                    since = 0
                    try:
                        asked = conn.recv()
                    except (EOFError, OSError):
                        break
                    if asked is None:
                        break
                    streaming = asked
                    continue
                stream, start, limit, until = streaming
                try:
                    items = writer.items(reader.read(start, limit, until))
                except Exception as e:
                    send("error", stream, _error(e))
                    streaming = None
                    continue
                send("items", stream, items)  # waits while AHEAD batches wait to be sent
                following = _after(items, until)
                streaming = None if following is None else (stream, following, limit, until)
                since += len(items)
                del items
                if since >= COLLECT_EVERY:
                    collect()
                    since = 0
    except (BrokenPipeError, ConnectionResetError):
        pass  # the relay is gone
    finally:
        outbox.close()
        reader.close()
        app.close()


def _after(items: list[Item], until: int | None) -> int | None:
    """Where the batch after these items starts (None: they reach `until`, or there are none)."""
    if not items or (until is not None and items[-1][0] >= until):
        return None
    return items[-1][0] + 1


def main() -> None:
    """The encoder process's entry (see `EncoderProcess.start`): its socket's descriptor is the
    first argument, what to open the first message."""
    # Ctrl-C reaches the whole process group: the relay stops it by closing the socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(sys.argv[1]))
    try:
        opened = conn.recv()
    except (EOFError, OSError):
        return
    except Exception as e:  # what to open cannot be read here (say, its module is not found)
        conn.send_bytes(pickle.dumps(("error", 0, _error(e))))
        return
    serve(conn, *opened)
