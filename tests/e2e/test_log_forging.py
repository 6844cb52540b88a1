"""A client cannot write a line of its own into the server's log: a path holding `%0A` (or other
control characters) is logged escaped on the request's one line; CHANNEL_LOG_FORMAT=json writes one
JSON object per line."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.e2e.server import Server, gunicorn

FORGED = "FORGED 2026-01-01 [1] [INFO] channel.http: admin logged in"


def send_raw(server: Server, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def forged_target() -> str:
    return "/healthz%0A" + FORGED.replace(" ", "%20") + "%0D%0A%1B[31m"


def test_a_path_with_an_encoded_newline_stays_on_its_log_line(tmp_path: Path) -> None:
    with gunicorn(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, workers=1).start() as server:
        answer = send_raw(server, forged_target())
        assert answer.startswith(b"HTTP/1.1 404")
        server.stop()
        lines = server.log().splitlines()
    assert not any(line.startswith("FORGED") for line in lines)
    logged = [line for line in lines if "FORGED" in line]
    assert len(logged) == 1 and "/healthz\\nFORGED" in logged[0] and "\x1b" not in logged[0]
    assert "\\r\\n\\x1b[31m" in logged[0]


def test_json_log_lines_are_one_object_each_holding_the_client_text_verbatim(
    tmp_path: Path,
) -> None:
    server = gunicorn(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, workers=1)
    server.env["CHANNEL_LOG_FORMAT"] = "json"
    with server.start():
        send_raw(server, forged_target())
        server.stop()
        lines = [line for line in server.log().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "pid", "message"} <= set(entries[0])
    [request] = [e for e in entries if "FORGED" in e["message"]]
    assert request["logger"] == "channel.http"
    assert f"/healthz\n{FORGED}\r\n\x1b[31m" in request["message"]
