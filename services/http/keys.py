"""API keys: bootstrap keys from the CHANNEL_API_KEYS file, issued keys stored hashed in a table of
the same database (SQLite file or the URL's PostgreSQL schema); compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from psycopg.sql import SQL, Identifier

from domain.errors import InvalidInputError, NotFoundError
from infra.persistence import Database, parse_database_url
from infra.sql import open_datastore, transaction

# Issued keys read `chl_<id>_<secret>`: the id finds the row, the secret makes the key unguessable.
_COLUMNS = "key_hash, id, role, dealer_id, salesperson, label, created_at, revoked_at"
_ISSUED = re.compile(r"^chl_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")


class Role(StrEnum):
    DEALER = "dealer"
    SALES = "sales"
    MANAGER = "manager"
    FINANCE = "finance"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who a request speaks for. `dealer_id` binds a dealer key; `salesperson` a sales key (K1)."""

    key_id: str
    role: Role
    dealer_id: str | None = None
    salesperson: str | None = None


@dataclass(frozen=True)
class KeyRecord:
    id: str
    role: Role
    dealer_id: str | None
    salesperson: str | None
    label: str
    created_at: str
    revoked_at: str | None = None

    def principal(self) -> Principal:
        return Principal(self.id, self.role, self.dealer_id, self.salesperson)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh (key id, key): 64 bits of id, 256 bits of secret."""
    key_id = secrets.token_hex(8)
    return key_id, f"chl_{key_id}_{secrets.token_urlsafe(32)}"


def check_binding(role: Role, dealer_id: str | None, salesperson: str | None) -> None:
    """A dealer key names its dealer; only dealer and sales keys are bound to anyone."""
    if role == Role.DEALER and not dealer_id:
        raise InvalidInputError("dealer_id: a dealer key names its dealer", field="dealer_id")
    if role != Role.DEALER and dealer_id:
        raise InvalidInputError("dealer_id: only a dealer key names a dealer", field="dealer_id")
    if role != Role.SALES and salesperson:
        raise InvalidInputError(
            "salesperson: only a sales key names a salesperson", field="salesperson"
        )


def load_bootstrap(path: str) -> dict[str, Principal]:
    """Read `{"<key>": {"role": "sales"}, "<key>": {"role": "dealer", "dealer_id": "…"}}`, indexed by
    the key's digest so that the keys themselves are not kept in memory."""
    if not path:
        return {}
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInputError(f"CHANNEL_API_KEYS: cannot read {path}: {e}") from None
    if not isinstance(raw, dict):
        raise InvalidInputError(f"CHANNEL_API_KEYS: {path} must hold a JSON object")
    keys: dict[str, Principal] = {}
    for key, spec in raw.items():
        if not isinstance(spec, dict) or len(key) < 16:
            raise InvalidInputError(
                "CHANNEL_API_KEYS: each entry is a key of 16+ characters with {\"role\": …}"
            )
        try:
            role = Role(str(spec.get("role")))
        except ValueError:
            raise InvalidInputError(
                f"CHANNEL_API_KEYS: role {spec.get('role')!r} is not one of "
                + ", ".join(r.value for r in Role)
            ) from None
        dealer_id, salesperson = spec.get("dealer_id"), spec.get("salesperson")
        check_binding(role, dealer_id, salesperson)
        hashed = digest(key)
        keys[hashed] = Principal(f"file-{hashed[:12]}", role, dealer_id, salesperson)
    return keys


class KeyStore:
    """Authenticates presented keys and issues or revokes stored ones."""

    def __init__(self, database: Database, bootstrap: Mapping[str, Principal] | None = None):
        self.database = database
        self.bootstrap = dict(bootstrap or {})
        self.datastore = open_datastore(database)
        self._ensure_table()

    @classmethod
    def from_url(cls, url: str, bootstrap_file: str = "") -> KeyStore:
        return cls(parse_database_url(url), load_bootstrap(bootstrap_file))

    def close(self) -> None:
        self.datastore.close()

    def _db(self, *, commit: bool) -> Any:
        return transaction(self.datastore, commit=commit)

    def _ensure_table(self) -> None:
        with self._db(commit=True) as db:
            if db.dialect.is_postgres:
                db.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    Identifier(db.dialect.schema)).as_string(None))
            db.execute(
                "CREATE TABLE IF NOT EXISTS @channel_api_keys ("
                " id TEXT PRIMARY KEY, key_hash TEXT NOT NULL, role TEXT NOT NULL,"
                " dealer_id TEXT, salesperson TEXT, label TEXT NOT NULL DEFAULT '',"
                " created_at TEXT NOT NULL, revoked_at TEXT)"
            )

    def ping(self) -> None:
        """Raise unless the database answers (for /healthz)."""
        with self._db(commit=False) as db:
            db.one("SELECT count(*) FROM @channel_api_keys WHERE id = ?", ("",))

    # --- authentication -----------------------------------------------------------------------

    def authenticate(self, presented: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None otherwise. Digests are compared with
        hmac.compare_digest, and every bootstrap key is compared, so timing tells nothing."""
        hashed = digest(presented)
        found: Principal | None = None
        for known, principal in self.bootstrap.items():
            if hmac.compare_digest(known, hashed):
                found = principal
        if found is not None:
            return found
        match = _ISSUED.match(presented)
        if match is None:
            return None
        row = self._row(match.group(1))
        if row is None:
            return None
        stored_hash, record = row
        if not hmac.compare_digest(stored_hash, hashed) or record.revoked_at is not None:
            return None
        return record.principal()

    # --- administration -----------------------------------------------------------------------

    def create(
        self,
        role: Role | str,
        dealer_id: str | None = None,
        salesperson: str | None = None,
        label: str = "",
    ) -> tuple[str, KeyRecord]:
        """Issue a key; the plain key is returned here and never again."""
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInputError(
                "role: one of " + ", ".join(r.value for r in Role), field="role"
            ) from None
        check_binding(role, dealer_id, salesperson)
        key_id, key = new_key()
        record = KeyRecord(
            key_id, role, dealer_id, salesperson or None, label,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._db(commit=True) as db:
            db.execute(
                "INSERT INTO @channel_api_keys (id, key_hash, role, dealer_id, salesperson, label,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key_id, digest(key), role.value, dealer_id, record.salesperson, label,
                 record.created_at),
            )
        return key, record

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke an issued key at once (every worker reads the table on each request)."""
        row = self._row(key_id)
        if row is None:
            raise NotFoundError(f"no api key {key_id}")
        record = row[1]
        if record.revoked_at is None:
            revoked_at = datetime.now(UTC).isoformat(timespec="seconds")
            with self._db(commit=True) as db:
                db.execute(
                    "UPDATE @channel_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    (revoked_at, key_id),
                )
            record = KeyRecord(**{**record.__dict__, "revoked_at": revoked_at})
        return record

    def list(self) -> list[KeyRecord]:
        with self._db(commit=False) as db:
            rows = db.all(f"SELECT {_COLUMNS} FROM @channel_api_keys ORDER BY created_at, id")
        return [self._record(row)[1] for row in rows]

    def _row(self, key_id: str) -> tuple[str, KeyRecord] | None:
        with self._db(commit=False) as db:
            row = db.one(f"SELECT {_COLUMNS} FROM @channel_api_keys WHERE id = ?", (key_id,))
        return None if row is None else self._record(row)

    @staticmethod
    def _record(row: Any) -> tuple[str, KeyRecord]:
        return row["key_hash"], KeyRecord(
            row["id"], Role(row["role"]), row["dealer_id"], row["salesperson"], row["label"] or "",
            row["created_at"], row["revoked_at"],
        )


def embedded_keys_file(database_url: str) -> Path | None:
    """Where the embedded default keeps its generated bootstrap keys: beside the SQLite file."""
    database = parse_database_url(database_url)
    if database.is_postgres or database.path == ":memory:":
        return None
    return Path(database.path).with_suffix(".api-keys.json")


def bootstrap_file(api_keys_setting: str, database_url: str) -> str:
    """CHANNEL_API_KEYS, else the embedded default's generated file when there is one."""
    if api_keys_setting:
        return api_keys_setting
    embedded = embedded_keys_file(database_url)
    return str(embedded) if embedded is not None and embedded.exists() else ""


def ensure_embedded_keys(database_url: str) -> tuple[Path, dict[str, dict[str, str]]] | None:
    """On the embedded default, create one key per role (but dealer: a dealer key needs a dealer)
    in a bootstrap file readable by its owner only; return the file and its keys."""
    path = embedded_keys_file(database_url)
    if path is None:
        return None
    if not path.exists():
        keys = {
            f"chl_{role.value}_{secrets.token_urlsafe(32)}": {"role": role.value}
            for role in Role
            if role != Role.DEALER
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written then renamed, so that two servers starting at once never read half a file.
        scratch = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        scratch.touch(mode=0o600)
        scratch.write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
        scratch.replace(path)
    return path, json.loads(path.read_text(encoding="utf-8"))
