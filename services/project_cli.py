"""`channel project`: a dedicated follower that keeps the read model and the close follow-ups up to
date (PostgreSQL: it competes for the projections' leadership; SQLite: it catches up once)."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from infra.settings import Settings


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("project", parents=[common], help="follow the log into the read model (projections)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from services.bootstrap import build_runtime
    from services.runtimes.postgres import PostgresRuntime

    runtime = build_runtime(settings, lead=True)
    try:
        if not isinstance(runtime, PostgresRuntime):
            runtime.refresh()
            print(f"read model at log position {runtime.position}")
            return 0
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        print("following the log (the leader among the processes runs the projections)", flush=True)
        stop.wait()
    finally:
        runtime.close()
    return 0
