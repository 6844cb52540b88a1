"""The process's long-lived heap kept out of the cyclic garbage collector's walks."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_done = False


def freeze_long_lived() -> None:
    """Once per process, before its first long run of work (a consumer's polls, a catch-up): what
    the process holds by then (modules, schemas, pools, the application) lives as long as it, so
    the collector stops walking it at each full collection — which batches of events, kept until
    their transaction commits, bring about often. Collected first, so no garbage is kept."""
    global _done
    with _lock:
        if _done:
            return
        _done = True
        gc.collect()
        gc.freeze()


_paused = 0
_was_enabled = True

# Events (or records) of a batch from which its young garbage is collected once it is let go, by
# the function `collector_paused` gives; a shorter batch leaves it to the collector's thresholds.
COLLECT_FROM = 64

# Events between collections of the young generations where the collector stays paused from one
# batch to the next (the relay and its encoder process: a batch there leaves little garbage, and
# its messages and futures are alive while the next is sent).
COLLECT_EVERY = 5000


@contextmanager
def collector_paused() -> Iterator[Callable[[], None]]:
    """The cyclic collector paused for a bounded run of batches (a catch-up): each batch holds its
    events until it commits, and the collector, triggered by their allocations, would walk them
    again and again. The function given collects the young generations; called between batches,
    it keeps anything cyclic from piling up, so memory stays flat. Nested or concurrent runs
    share the pause; the last to end restores the collector as it was."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield _collect_young
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


def _collect_young() -> None:
    gc.collect(1)
