"""The embedded default's runtime (SQLite): the read side caught up in this process at each sync."""

from __future__ import annotations

import threading

from projections.views import ChannelView
from services.application import ChannelLedger
from services.runtimes.base import Runtime, log


class EmbeddedRuntime(Runtime):
    """SQLite: the recorder cannot be subscribed to, so each sync catches the projection up in
    this process from its tracked position, then runs the pending closes' follow-ups."""

    def __init__(self, app: ChannelLedger, view: ChannelView, read_wait: float):
        super().__init__(app, view, read_wait)
        self._lock = threading.Lock()
        self._resume()
        self._starting = True

    def sync(self, position: int | None = None) -> None:
        """Never raises for an event the read model cannot apply: it records the fault and stops
        (here, and in every process on the file) until a restart."""
        with self._lock:
            if self._starting:
                self._starting = False  # the first sync tries a recorded fault again
            elif self._stopped is not None or self.read_fault() is not None:
                return
            # A follow-up writes slips and allocations, which the next round projects; one round
            # more than the number of closes is always enough. Follow-ups read the read model:
            # none runs once it is stopped.
            for _ in range(len(self.managers.pending()) + 2):
                if self._advance() is not None:
                    return
                try:
                    written = self.managers.run_pending()
                except Exception:
                    # As on PostgreSQL: a command that failed here is not the read model's fault,
                    # and the close it follows is stored; the next sync tries it again.
                    log.exception("projections: a close follow-up failed; it will be retried")
                    return
                if written is None:
                    return
