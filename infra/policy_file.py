"""Reads a policy file (TOML): the input of `channel policy publish` and of `audit simulate`. No
running system reads one for its figures; the store records the versions it publishes."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

from domain.errors import InvalidInputError
from domain.policy import PolicyBook, PolicyVersion, parse_version

# Shipped with the code (package data), so an installed image finds it too.
DEFAULT_POLICY_FILE = Path(str(files("policy") / "default.toml"))


def _read(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise InvalidInputError(f"policy file {path} not found", field="policy") from None
    except IsADirectoryError:
        raise InvalidInputError(f"policy file {path} is a directory", field="policy") from None
    except tomllib.TOMLDecodeError as e:
        raise InvalidInputError(f"policy file {path}: {e}", field="policy") from None


def load_policy(path: str | Path) -> PolicyBook:
    """Every version of a policy document (`[[versions]]`)."""
    return PolicyBook.from_mapping(_read(path))


def load_version(
    path: str | Path, effective_from: date, version_id: str | None = None
) -> PolicyVersion:
    """The one version a file to publish holds (a single `[[versions]]` entry, or the version's
    keys at the top level), effective from the publisher's date; `version_id` replaces the file's
    `id`. A date written in the file is the publisher's to replace."""
    data = _read(path)
    if "versions" in data:
        versions = data["versions"]
        if not isinstance(versions, list) or len(versions) != 1:
            count = len(versions) if isinstance(versions, list) else 0
            raise InvalidInputError(
                f"policy file {path}: publish one version at a time (it holds {count})",
                field="policy",
            )
        data = dict(versions[0])
    data["effective_from"] = effective_from
    if version_id is not None:
        data["id"] = version_id
    return parse_version(data)


def default_policy() -> PolicyBook:
    """`policy/default.toml`: what an empty store records as its first policy version."""
    return load_policy(DEFAULT_POLICY_FILE)

