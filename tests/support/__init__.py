"""Test support: real PostgreSQL and Kafka-protocol servers, and small process helpers."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

import pytest

_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on `host` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def kill_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A `preexec_fn` that has Linux send `sig` to the child when this thread ends.

    The kernel ties the parent-death signal to the thread that forked, so it is only
    set when called from the main thread (fixtures run there); elsewhere it returns None.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def unavailable(reason: str) -> NoReturn:
    """Skip the test for want of a server, or fail loudly when running in CI (env CI set)."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and a required server is unavailable: {reason}", pytrace=False)
    pytest.skip(reason)
