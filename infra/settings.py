"""Every setting of Channel Ledger, named by its environment variable, with a local default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


def _seconds(name: str, default: str) -> float:
    """A duration in seconds, read exactly (Decimal) and kept to the millisecond."""
    text = _env(name, default)
    try:
        millis = int(Decimal(text) * 1000)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name}: {text!r} is not a number of seconds") from None
    if millis < 0:
        raise ValueError(f"{name}: {text!r} must not be negative")
    return timedelta(milliseconds=millis).total_seconds()


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    text = _env(name, default).strip().lower()
    if text not in choices:
        raise ValueError(f"{name}: {text!r} is not one of {', '.join(choices)}")
    return text


@dataclass(frozen=True)
class Settings:
    CHANNEL_DATABASE_URL: str = field(
        default_factory=lambda: _env("CHANNEL_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'channel.db'}")
    )
    CHANNEL_API_KEYS: str = field(default_factory=lambda: _env("CHANNEL_API_KEYS", ""))
    CHANNEL_HOST: str = field(default_factory=lambda: _env("CHANNEL_HOST", "127.0.0.1"))
    CHANNEL_PORT: int = field(default_factory=lambda: int(_env("CHANNEL_PORT", "8000")))
    CHANNEL_WORKERS: int = field(default_factory=lambda: int(_env("CHANNEL_WORKERS", "2")))
    CHANNEL_KAFKA_BOOTSTRAP: str = field(
        default_factory=lambda: _env("CHANNEL_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    )
    CHANNEL_KAFKA_TOPIC: str = field(
        default_factory=lambda: _env("CHANNEL_KAFKA_TOPIC", "channel.events.v1")
    )
    CHANNEL_KAFKA_PARTITIONS: int = field(
        default_factory=lambda: int(_env("CHANNEL_KAFKA_PARTITIONS", "6"))
    )
    CHANNEL_KAFKA_GROUP: str = field(
        default_factory=lambda: _env("CHANNEL_KAFKA_GROUP", "channel-reporting")
    )
    # Where the reporting consumer sends a message that fails its schema.
    CHANNEL_KAFKA_DEAD_LETTER_TOPIC: str = field(
        default_factory=lambda: _env("CHANNEL_KAFKA_DEAD_LETTER_TOPIC", "channel.events.v1.dlt")
    )
    # The relay's producer: "auto" lets the client use idempotence when the broker supports it.
    CHANNEL_KAFKA_IDEMPOTENCE: str = field(
        default_factory=lambda: _env("CHANNEL_KAFKA_IDEMPOTENCE", "auto")
    )
    CHANNEL_KAFKA_MAX_IN_FLIGHT: int = field(
        default_factory=lambda: int(_env("CHANNEL_KAFKA_MAX_IN_FLIGHT", "1"))
    )
    # Consumer-group timings; short, so a group forms in seconds (docs/kafka.md).
    CHANNEL_KAFKA_MAX_POLL_INTERVAL_MS: int = field(
        default_factory=lambda: int(_env("CHANNEL_KAFKA_MAX_POLL_INTERVAL_MS", "5000"))
    )
    CHANNEL_KAFKA_SESSION_TIMEOUT_MS: int = field(
        default_factory=lambda: int(_env("CHANNEL_KAFKA_SESSION_TIMEOUT_MS", "6000"))
    )
    CHANNEL_KAFKA_HEARTBEAT_INTERVAL_MS: int = field(
        default_factory=lambda: int(_env("CHANNEL_KAFKA_HEARTBEAT_INTERVAL_MS", "1000"))
    )
    # Events the relay reads from the log and publishes per batch (one flush, one commit).
    CHANNEL_RELAY_BATCH: int = field(
        default_factory=lambda: int(_env("CHANNEL_RELAY_BATCH", "2000"))
    )
    # On PostgreSQL, where the relay reads the log and writes the envelopes: "process" (a process
    # of its own, on another core, while the relay sends: infra/relay/encoder.py) or "thread".
    CHANNEL_RELAY_ENCODER: str = field(
        default_factory=lambda: _choice("CHANNEL_RELAY_ENCODER", "process", ("process", "thread"))
    )
    CHANNEL_REPORTING_DATABASE_URL: str = field(
        default_factory=lambda: _env(
            "CHANNEL_REPORTING_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'reporting.db'}"
        )
    )
    # Seconds a read waits for the projections to reach the position of the caller's write.
    CHANNEL_READ_WAIT: float = field(
        default_factory=lambda: _seconds("CHANNEL_READ_WAIT", "5")
    )
    # How often a command is retried after an optimistic-concurrency conflict.
    CHANNEL_COMMAND_ATTEMPTS: int = field(
        default_factory=lambda: int(_env("CHANNEL_COMMAND_ATTEMPTS", "20"))
    )

    # The intake's worker model (services/http/worker.py): threads per worker, seconds a client
    # may take to send a request's headers, per read of a body, and an idle kept-alive connection.
    CHANNEL_THREADS: int = field(default_factory=lambda: int(_env("CHANNEL_THREADS", "8")))
    CHANNEL_HEADER_TIMEOUT: float = field(
        default_factory=lambda: _seconds("CHANNEL_HEADER_TIMEOUT", "10")
    )
    CHANNEL_READ_TIMEOUT: float = field(
        default_factory=lambda: _seconds("CHANNEL_READ_TIMEOUT", "10")
    )
    CHANNEL_KEEPALIVE: float = field(default_factory=lambda: _seconds("CHANNEL_KEEPALIVE", "5"))
    # Seconds after which a request still marked in flight under an Idempotency-Key is taken for
    # dead (its worker killed) and a repeat runs again; until then a repeat hears 409.
    CHANNEL_IDEMPOTENCY_ABANDON_AFTER: float = field(
        default_factory=lambda: _seconds("CHANNEL_IDEMPOTENCY_ABANDON_AFTER", "30")
    )
    # Log lines as escaped text or as one JSON object per line (infra/logs.py).
    CHANNEL_LOG_FORMAT: str = field(
        default_factory=lambda: _choice("CHANNEL_LOG_FORMAT", "text", ("text", "json"))
    )

    def with_database(self, url: str | None) -> Settings:
        return self if not url else replace(self, CHANNEL_DATABASE_URL=url)


# Variables an earlier release read that no longer change anything, with what to do instead.
RETIRED = {
    "CHANNEL_POLICY_FILE": "the policy is recorded in the log: publish a version with "
    "`channel policy publish FILE --effective-from DATE` (or PUT /policy)",
}


def retired() -> list[str]:
    """One line per retired variable that is set in the environment."""
    return [f"{name} is not read: {hint}" for name, hint in RETIRED.items() if os.environ.get(name)]


def load() -> Settings:
    return Settings()
