"""The `channel` command. Each sub-command lives in its own module and registers itself here;
every command takes --database and fails with a one-line reason and a non-zero exit."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from domain.errors import ChannelError
from infra.preflight import check_database
from infra.settings import Settings, load, retired

# name -> module providing `add_parser(subparsers, common)`; the parser sets `func(args, settings)`.
COMMANDS: dict[str, str] = {
    "demo": "services.demo",
    "close-period": "services.period_cli",
    "serve": "services.http.cli",
    "keys": "services.http.cli",
    "report": "services.reports_cli",
    "project": "services.project_cli",
    "relay": "services.kafka_cli",
    "consume": "services.kafka_cli",
    "audit": "services.audit_cli",
    "policy": "services.policy_cli",
    "import": "services.import_cli",
}

Handler = Callable[[argparse.Namespace, Settings], int | None]

# Commands that make their SQLite store when it is missing (the CLI contract); `demo` checks for
# itself (after --fresh), `consume` reads no store (its reporting database is its own).
CREATES = {"serve"}
OWN_CHECK = {"demo", "consume"}


def common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database",
        metavar="URL",
        help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB (default: CHANNEL_DATABASE_URL)",
    )
    common.add_argument(
        "--create", action="store_true",
        help="make a new SQLite store if the file does not exist (otherwise refused)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="channel", description="Channel Ledger: orders and rebates, event-sourced."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    registered: set[str] = set()
    for module_name in dict.fromkeys(COMMANDS.values()):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name and module_name.startswith(e.name):
                continue  # that layer is not built yet
            raise
        module.add_parser(sub, common)
        registered.update(sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    for line in retired():
        print(f"channel {args.command}: {line}", file=sys.stderr)
    try:
        settings = load().with_database(getattr(args, "database", None))
        if args.command not in OWN_CHECK:
            create = args.command in CREATES or bool(getattr(args, "create", False))
            check_database(settings.CHANNEL_DATABASE_URL, create=create)
        return int(handler(args, settings) or 0)
    except ChannelError as e:
        rule = f" [{e.rule}]" if e.rule else ""
        print(f"channel {args.command}: {e.message}{rule}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a one-line reason, never a traceback, for an operator's mistake
        print(f"channel {args.command}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
