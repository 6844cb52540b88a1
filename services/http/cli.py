"""`channel serve` (the HTTP intake under gunicorn) and `channel keys {create,revoke,list}`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from infra.settings import Settings
from services.bootstrap import build_application, build_key_store
from services.http.keys import (
    KeyStore,
    Role,
    embedded_keys_file,
    ensure_embedded_keys,
)


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser(
        "serve", parents=[common], help="run the HTTP API under gunicorn",
        description="Run the HTTP API under gunicorn. On the embedded default (SQLite, no "
        "CHANNEL_API_KEYS) the first start creates one key per role and every start prints them.",
    )
    serve.add_argument("--host", help="interface (default CHANNEL_HOST)")
    serve.add_argument("--port", type=int, help="port (default CHANNEL_PORT)")
    serve.add_argument("--workers", type=int, help="worker processes (default CHANNEL_WORKERS)")
    serve.add_argument("--threads", type=int, help="threads per worker (default CHANNEL_THREADS)")
    serve.set_defaults(func=serve_command)

    keys = sub.add_parser("keys", help="issue, list or revoke API keys")
    actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="issue a key; printed once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--dealer-id", help="the dealer of a dealer key")
    create.add_argument("--salesperson", help="the salesperson of a sales key (K1)")
    create.add_argument("--label", default="", help="a note for whoever reads the key list")
    create.set_defaults(func=create_key)
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a key at once")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=revoke_key)
    listing = actions.add_parser("list", parents=[common], help="the issued keys (ids only)")
    listing.set_defaults(func=list_keys)


def _store(settings: Settings) -> KeyStore:
    return build_key_store(settings)


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    from services.http.app import create_app
    from services.http.server import Server, gunicorn_options, prepare_database

    prepare_database(settings)  # every table, once, before the workers; proves the database answers
    _print_keys(settings)
    options = gunicorn_options(
        settings, host=args.host, port=args.port, workers=args.workers, threads=args.threads
    )
    print(f"serving on http://{options['bind']}  (OpenAPI: /openapi.json, docs: /docs)", flush=True)
    print(f"console on http://{options['bind']}/console/  (sign in with an API key)", flush=True)
    Server(lambda: create_app(settings), options).run()
    return 0


def _print_keys(settings: Settings) -> None:
    if settings.CHANNEL_API_KEYS:
        print(f"API keys: bootstrap keys from {settings.CHANNEL_API_KEYS}; "
              "issue more with `channel keys create`", flush=True)
        return
    embedded = ensure_embedded_keys(settings.CHANNEL_DATABASE_URL)
    if embedded is None:
        print("API keys: CHANNEL_API_KEYS is not set; issue keys with "
              "`channel keys create --role admin`", flush=True)
        return
    path, keys = embedded
    print(f"API keys of the embedded default (kept in {path}, readable by you only):")
    for key, spec in keys.items():
        print(f"  {spec['role']:<8} {key}")
    print("  dealer   none yet: a dealer key names its dealer; once one is registered, run\n"
          "           channel keys create --role dealer --dealer-id <dealer id>", flush=True)


def create_key(args: argparse.Namespace, settings: Settings) -> int:
    dealer_id = args.dealer_id
    if dealer_id:
        app = build_application(settings)
        try:
            dealer_id = str(app.get_dealer(dealer_id).id)
        finally:
            app.close()
    store = _store(settings)
    try:
        key, record = store.create(args.role, dealer_id, args.salesperson, args.label)
    finally:
        store.close()
    bound = f" dealer {record.dealer_id}" if record.dealer_id else ""
    bound += f" salesperson {record.salesperson}" if record.salesperson else ""
    print(f"key id {record.id}, role {record.role.value}{bound} (shown once):", file=sys.stderr)
    print(key)
    return 0


def revoke_key(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    try:
        record = store.revoke(args.key_id)
    finally:
        store.close()
    print(f"revoked {record.id} ({record.role.value}) at {record.revoked_at}")
    return 0


def list_keys(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    try:
        records = store.list()
    finally:
        store.close()
    for r in records:
        state = f"revoked {r.revoked_at}" if r.revoked_at else "active"
        bound = r.dealer_id or r.salesperson or ""
        print(f"{r.id}  {r.role.value:<8} {bound:<36} {state:<28} {r.label}")
    if embedded_keys_file(settings.CHANNEL_DATABASE_URL) and not settings.CHANNEL_API_KEYS:
        print("(plus the embedded default's bootstrap keys; `channel serve` prints them)")
    return 0
