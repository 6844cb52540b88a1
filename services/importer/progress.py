"""The import's progress on standard error: on a terminal a bar redrawn in place (a few times a
second at most); anywhere else (a log, a pipe) nothing while it runs and one line at the end."""

from __future__ import annotations

import time
from typing import TextIO

WIDTH = 30
REDRAW = 0.2  # seconds between redraws on a terminal


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO, *, tty: bool | None = None) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.tty = stream.isatty() if tty is None else tty
        self.done = 0
        self.started = self._drawn = time.monotonic()

    def advance(self, rows: int) -> None:
        self.done += rows
        now = time.monotonic()
        if self.tty and now - self._drawn >= REDRAW:
            self._drawn = now
            self.stream.write("\r" + self._line(now))
            self.stream.flush()

    def close(self) -> None:
        line = self._line(time.monotonic())
        self.stream.write(("\r" + line + "\n") if self.tty else line + "\n")
        self.stream.flush()

    def _line(self, now: float) -> str:
        share = self.done / self.total if self.total else 1.0
        filled = int(WIDTH * share)
        seconds = now - self.started
        rate = self.done / seconds if seconds > 0 else 0.0
        return (f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {self.done}/{self.total} "
                f"rows ({share:.0%}) {seconds:.1f} s, {rate:,.0f} rows/s")
