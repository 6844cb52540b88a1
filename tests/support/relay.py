"""What the relay's tests give its encoder process by name (the process imports it)."""

from __future__ import annotations

from typing import Any

from infra.persistence import Database


def no_application(database: Database) -> Any:
    """An encoder process's application that cannot be opened."""
    raise RuntimeError(f"no application for {database.kind}")
