"""Counts the SQL statements PostgreSQL is sent: a TCP proxy in front of the server that reads the
frontend's side of the wire protocol and counts each simple query ('Q') and each execution of an
extended-protocol statement ('E'), and each sync with the server ('S' and 'Q': round trips at most).
A benchmark points a server process at `proxy.port` and reads `proxy.statements` before and after."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType

# Startup-phase requests answered by the server without leaving the startup phase.
SSL_REQUEST, GSS_REQUEST = 80877103, 80877104


class StatementCounter:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.statements = 0
        self.syncs = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="pgcount", daemon=True).start()

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.statements, self.syncs

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._frontend, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _frontend(self, client: socket.socket, server: socket.socket) -> None:
        """Forward the client's bytes, counting its messages as they pass."""
        buffer = b""
        started = False
        try:
            while chunk := client.recv(65536):
                server.sendall(chunk)
                buffer += chunk
                while True:
                    if not started:
                        if len(buffer) < 8:
                            break
                        (length,) = struct.unpack("!I", buffer[:4])
                        if len(buffer) < length:
                            break
                        (code,) = struct.unpack("!I", buffer[4:8])
                        buffer = buffer[length:]
                        started = code not in (SSL_REQUEST, GSS_REQUEST)
                        continue
                    if len(buffer) < 5:
                        break
                    kind = buffer[:1]
                    (length,) = struct.unpack("!I", buffer[1:5])
                    if len(buffer) < 1 + length:
                        break
                    buffer = buffer[1 + length:]
                    with self._lock:
                        if kind in (b"Q", b"E"):
                            self.statements += 1
                        if kind in (b"Q", b"S"):
                            self.syncs += 1
        except OSError:
            pass
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()

    def __enter__(self) -> StatementCounter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
