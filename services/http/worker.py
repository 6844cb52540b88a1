"""gunicorn's threaded worker, hardened against slow and idle clients: a request's headers are
gathered by the worker's poller without holding a thread (a thread only takes a connection whose
headers have all arrived), a connection whose headers take longer than CHANNEL_HEADER_TIMEOUT is
closed, and a body read waits at most CHANNEL_READ_TIMEOUT per read (then 408)."""

from __future__ import annotations

import socket
import struct
import time
from typing import Any

# _DEFER hands a connection back to the poller (gunicorn's own way of parking a client that has
# sent nothing yet); there is no public name for it.
from gunicorn import util
from gunicorn.workers.gthread import _DEFER, ThreadWorker

# Bytes of request line and headers gathered at most (gunicorn's own limits: 4094 per line,
# 100 fields of 8190): beyond, the connection is closed.
MAX_HEAD = 64 * 1024
# Seconds a thread waits for the rest of a body the application did not read (a request refused
# before its body arrived) before closing the connection; gunicorn waits 5.
DRAIN_SECONDS = 0.2


def _head_complete(data: bytes) -> bool:
    return b"\r\n\r\n" in data or b"\n\n" in data


class ChannelThreadWorker(ThreadWorker):
    """`worker_class` for `channel serve` and gunicorn_conf.py."""

    def init_process(self) -> None:
        from infra.settings import load

        settings = load()
        self.header_timeout = settings.CHANNEL_HEADER_TIMEOUT
        self.read_timeout = settings.CHANNEL_READ_TIMEOUT
        super().init_process()

    def handle(self, conn: Any) -> Any:
        try:
            ready = self._head_arrived(conn)
        except OSError:
            return False  # closed by the client meanwhile
        if ready is None:  # closed, too slow or too big: dropped, nothing to answer
            util.close(conn.sock)
            return False
        if not ready:
            return _DEFER  # back to the poller, no thread held, until more bytes arrive
        seconds = int(self.read_timeout)
        micros = int((self.read_timeout - seconds) * 1_000_000)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                             struct.pack("ll", seconds, micros))
        keep = super().handle(conn)
        if keep is False:
            # gunicorn closes in its poller thread, lingering up to 2 s for the client's FIN: a
            # client that never sends one would stall every connection. Here, in this thread,
            # and briefly.
            util.close_graceful(conn.sock, timeout=DRAIN_SECONDS)
        return keep

    def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
        if not keepalive:
            return False
        return bool(conn.parser.finish_body(deadline=time.monotonic() + DRAIN_SECONDS))

    def _head_arrived(self, conn: Any) -> bool | None:
        """True once the request's headers are all buffered (and handed to the parser), False
        while they are still coming, None when the connection is to be closed."""
        staged: bytes = getattr(conn, "channel_staged", b"")
        started: float | None = getattr(conn, "channel_started", None)
        if started is None:
            started = conn.channel_started = time.monotonic()
        buffered = conn.parser.unreader.buf.getvalue() if conn.initialized else b""
        if not _head_complete(buffered + staged):
            conn.sock.setblocking(False)
            try:
                data = conn.sock.recv(MAX_HEAD)
            except BlockingIOError:
                data = None
            if data == b"":
                return None
            staged += data or b""
            if not _head_complete(buffered + staged):
                if len(staged) > MAX_HEAD or time.monotonic() - started > self.header_timeout:
                    return None
                conn.channel_staged = staged
                return False
        conn.channel_staged, conn.channel_started = b"", None
        conn.sock.setblocking(True)
        conn.init()
        if staged:
            unreader = conn.parser.unreader
            unreader.buf.seek(0, 2)
            unreader.buf.write(staged)
        return True
