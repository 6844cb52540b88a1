"""Log lines a client cannot forge: every message escapes control characters (a path holding
`%0A` stays on its line), tracebacks are indented under their line; or one JSON object per line
(CHANNEL_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

FORMATS = ("text", "json")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    """Control characters (newlines, escapes, NEL, line separators) as `\\xNN` / `\\uNNNN`."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class TextFormatter(logging.Formatter):
    """`time [pid] [LEVEL] logger: message`, the message escaped; a traceback's lines each begin
    with `  | `, so none of them reads as a line of its own."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: object) -> str:
        text = super().formatException(ei)  # type: ignore[arg-type]
        return "\n".join("  | " + escape(line) for line in text.splitlines())

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("  | " + escape(line) for line in stack_info.splitlines())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, message (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True)


def formatter(kind: str) -> logging.Formatter:
    if kind not in FORMATS:
        raise ValueError(f"CHANNEL_LOG_FORMAT: {kind!r} is not one of {', '.join(FORMATS)}")
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure(kind: str = "text", name: str = "channel") -> None:
    """The `name` logger (and its children) to stderr in the given format, once per process."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(kind))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
