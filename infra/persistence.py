"""Maps a database URL onto the eventsourcing library's persistence settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from domain.errors import InvalidInputError


@dataclass(frozen=True)
class Database:
    """A parsed CHANNEL_DATABASE_URL."""

    url: str
    kind: str  # "sqlite" or "postgres"
    path: str = ""  # sqlite file, or ":memory:"
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = ""

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgres"

    def conninfo(self) -> str:
        """A psycopg connection string (PostgreSQL only)."""
        parts = [f"host={self.host}", f"port={self.port}", f"dbname={self.dbname}"]
        if self.user:
            parts.append(f"user={self.user}")
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)

    def with_schema(self, schema: str) -> Database:
        """The same server and database, another schema (scratch areas, tests)."""
        if not self.is_postgres:
            raise InvalidInputError("schemas exist on PostgreSQL only", field="database")
        base = self.url.split("?", 1)[0]
        return parse_database_url(f"{base}?schema={schema}")

    def eventsourcing_env(self) -> dict[str, str]:
        if self.kind == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "APPLICATION_RECORDER_TOPIC": "infra.recorders:GuardedSQLiteApplicationRecorder",
                "SQLITE_DBNAME": self.path,
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "infra.recorders:GuardedPostgresApplicationRecorder",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
        }
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        return env


def parse_database_url(url: str) -> Database:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # As SQLAlchemy writes it: sqlite:///relative/path, sqlite:////absolute/path.
        if not url.startswith("sqlite:///"):
            raise InvalidInputError(f"database: write sqlite:///PATH, not {url!r}", field="database")
        path = url[len("sqlite:///"):]
        if path in ("", ":memory:"):
            return Database(url=url, kind="sqlite", path=":memory:")
        file = Path(path) if Path(path).is_absolute() else Path.cwd() / path
        file.parent.mkdir(parents=True, exist_ok=True)
        return Database(url=url, kind="sqlite", path=str(file))
    if parsed.scheme in ("postgresql", "postgres"):
        query = parse_qs(parsed.query)
        return Database(
            url=url,
            kind="postgres",
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            dbname=(parsed.path or "/").lstrip("/") or "postgres",
            schema=query.get("schema", [""])[0],
        )
    raise InvalidInputError(
        f"database: {url!r} is neither sqlite:///PATH nor postgresql://USER@HOST:PORT/DB",
        field="database",
    )
