"""A handful of slow or idle clients cannot exhaust the intake: 50 connections holding half-sent
requests open (a request line and part of the headers, or a body that stops) while `/healthz`
and an order are answered, on one gunicorn worker; the half-sent ones are closed by the server
once their header timeout passes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Client, Server, gunicorn, priced_buyer

HALF_SENT = 50


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    made = gunicorn(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, workers=1)
    made.env.update(CHANNEL_THREADS="4", CHANNEL_HEADER_TIMEOUT="600")
    with made.start() as running:
        yield running


def half_sent(server: Server, index: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    if index % 2:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    else:  # headers complete, a body announced and never sent
        sock.sendall(b"POST /dealers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"na")
    return sock


def test_fifty_half_sent_requests_leave_healthz_and_an_order_answered(server: Server) -> None:
    api = Client(server.url, server.keys)
    dealer_id = priced_buyer(api)
    # Half the sockets stop inside the headers (held by the poller, no thread); the other half
    # stop inside an unauthenticated body (refused 401 before it is read).
    held = [half_sent(server, i) for i in range(HALF_SENT)]
    try:
        assert api.ok("GET", "/healthz")["status"] == "ok"
        order = api.ok("POST", "/orders", 201, role="sales", json={
            "dealer_id": dealer_id, "client_ref": "PO-1", "order_date": "2026-04-01",
            "ship_to_region": "east", "payment": "prepaid",
            "lines": [{"sku": "ML-AP300", "qty": 3}]})
        assert order["status"] == "confirmed"
        assert api.ok("GET", "/healthz")["status"] == "ok"
        for sock in held[1::2]:  # still open, still waiting: nothing was answered to them
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        for sock in held:
            sock.close()


def test_a_request_whose_headers_never_finish_is_closed_after_the_header_timeout(
    tmp_path: Path,
) -> None:
    made = gunicorn(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, workers=1)
    made.env.update(CHANNEL_HEADER_TIMEOUT="1", CHANNEL_KEEPALIVE="1")
    with made.start() as running:
        sock = half_sent(running, 1)
        sock.settimeout(30)
        assert sock.recv(1) == b""  # closed by the server, nothing answered
        sock.close()
