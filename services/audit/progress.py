"""A progress bar on stderr with rate and ETA, for long reads of the log (no dependency)."""

from __future__ import annotations

import sys
from time import monotonic
from typing import TextIO

WIDTH = 24


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """`advance(n)` after each batch. On a terminal the bar is redrawn in place (at most every
    `interval` s); elsewhere (logs, CI) a line is written at most every `line_interval` s.
    Timing only informs the operator: nothing it measures reaches a figure."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 0.2,
        line_interval: float = 10.0,
    ) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if self.tty else line_interval
        self.done = 0
        self.started = monotonic()
        self._shown = self.started  # the first line after one interval: short runs stay quiet

    @property
    def rate(self) -> float:
        elapsed = monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = int(share * WIDTH)
            bar = "#" * filled + "." * (WIDTH - filled)
            eta = _duration((self.total - self.done) / rate) if rate > 0 else "?"
            return (f"{self.label} [{bar}] {self.done:,}/{self.total:,} {share:4.0%} "
                    f"{rate:,.0f} ev/s ETA {eta}")
        return f"{self.label} {self.done:,} {rate:,.0f} ev/s"

    def advance(self, n: int) -> None:
        self.done += n
        now = monotonic()
        if self.enabled and now - self._shown >= self.interval:
            self._shown = now
            self._write(self.line())

    def _write(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if not self.enabled:
            return
        elapsed = monotonic() - self.started
        text = f"{self.label}: {self.done:,} events in {_duration(elapsed)} ({self.rate:,.0f} ev/s)"
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
