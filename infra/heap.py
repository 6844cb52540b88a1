"""The process's long-lived heap kept out of the cyclic garbage collector's walks."""

from __future__ import annotations

import gc
import threading

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
