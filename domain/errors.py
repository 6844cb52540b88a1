"""Domain errors. Each refusal names the RULES.md id it enforces; the HTTP layer maps classes to
status codes."""

from __future__ import annotations


class ChannelError(Exception):
    """Base of every error a user's request can cause."""

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field


class RuleViolationError(ChannelError):
    """A business rule refuses the command (HTTP 409 with `rule`)."""

    def __init__(self, rule: str, message: str, *, field: str | None = None):
        super().__init__(message, rule=rule, field=field)


class InvalidInputError(ChannelError):
    """A value that cannot be read at all (HTTP 422, naming the field)."""


class NotFoundError(ChannelError):
    """An unknown id (HTTP 404)."""


class ConcurrencyError(ChannelError):
    """Concurrent writers kept conflicting after retries (HTTP 409)."""
