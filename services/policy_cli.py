"""`channel policy {publish FILE --effective-from DATE, show [--on DATE]}`: policy versions are
events in the log (R4); a file is only the input of a publication."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from domain.errors import InvalidInputError
from domain.policy import PolicyVersion
from infra.policy_file import load_version
from infra.settings import Settings
from services.bootstrap import build_application


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("policy", help="policy versions in the log (R4): publish, show")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    publish = actions.add_parser(
        "publish", parents=[common], help="record a policy version from a file",
        description="Record the version a policy file holds, effective from a day of an open "
        "month. Publishing the same version again changes nothing.",
    )
    publish.add_argument("file", metavar="FILE", help="a policy file (TOML) holding one version")
    publish.add_argument("--effective-from", type=_day, required=True, metavar="DATE")
    publish.add_argument(
        "--id", dest="version_id", metavar="ID", help="the version's id (default: the file's)"
    )
    publish.add_argument("--note", default="", help="why the version is published")
    publish.set_defaults(func=run_publish)
    show = actions.add_parser("show", parents=[common], help="the versions recorded in the log")
    show.add_argument("--on", type=_day, metavar="DATE", help="only the version in force on DATE")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(func=run_show)


def version_document(version: PolicyVersion) -> dict[str, Any]:
    return {"id": version.id, "effective_from": version.effective_from.isoformat(), **version.terms()}


def run_publish(args: argparse.Namespace, settings: Settings) -> int:
    version = load_version(args.file, args.effective_from, args.version_id)
    app = build_application(settings)
    try:
        done = app.publish_policy(version, args.note)
    finally:
        app.close()
    if done.position is None:
        print(f"policy {done.value.id} from {done.value.effective_from} is recorded already")
    else:
        print(
            f"published policy {done.value.id} from {done.value.effective_from} "
            f"(log position {done.position})"
        )
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    app = build_application(settings)
    try:
        register = app.get_policy()
    finally:
        app.close()
    book = register.book
    versions = [book.in_force(args.on)] if args.on else book.versions
    if args.format == "json":
        print(json.dumps([version_document(v) for v in versions], indent=2, ensure_ascii=False))
        return 0
    notes = {p["version_id"]: p for p in register.published}
    for version in versions:
        entry = notes[version.id]
        number = entry["number"]
        print(f"policy {version.id}  effective from {version.effective_from}  (publication {number})")
        if entry["note"]:
            print(f"  {entry['note']}")
        for section, values in version.terms().items():
            print(f"  {section}: {json.dumps(values, ensure_ascii=False)}")
    if not versions:
        raise InvalidInputError("no policy version is recorded", field="policy")
    return 0
