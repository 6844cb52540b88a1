"""Reads a policy file (TOML) into the domain's PolicyBook."""

from __future__ import annotations

import tomllib
from pathlib import Path

from domain.errors import InvalidInputError
from domain.policy import PolicyBook


def load_policy(path: str | Path) -> PolicyBook:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise InvalidInputError(f"policy file {path} not found", field="policy") from None
    except tomllib.TOMLDecodeError as e:
        raise InvalidInputError(f"policy file {path}: {e}", field="policy") from None
    return PolicyBook.from_mapping(data)
