"""`channel close-period YYYY-MM`: finance closes a month (O6)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from domain.values import Month
from infra.settings import Settings
from services.bootstrap import build_application


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("close-period", parents=[common], help="close a month (O6)")
    p.add_argument("month", help="YYYY-MM")
    p.add_argument("--closed-on", type=date.fromisoformat, help="business date of the close")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    month = Month.parse(args.month)
    app = build_application(settings)
    done = app.close_period(month, args.closed_on)
    close = done.value.closes[-1]
    print(f"closed {close['month']} on {close['closed_on']} (log up to {close['covers_to']})")
    return 0
