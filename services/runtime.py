"""The runtime's names where its callers import them: the classes live in services/runtimes/, and
the composition root (services/bootstrap.py) builds runtimes and views. Nothing in services/
imports this module, so it may import the composition root without a cycle."""

from __future__ import annotations

from services.bootstrap import build_runtime, open_view, stored_read_state
from services.runtimes.base import ReadState, Runtime, read_state
from services.runtimes.embedded import EmbeddedRuntime
from services.runtimes.postgres import PostgresRuntime, postgres_view

__all__ = [
    "EmbeddedRuntime", "PostgresRuntime", "ReadState", "Runtime", "build_runtime", "open_view",
    "postgres_view", "read_state", "stored_read_state",
]
