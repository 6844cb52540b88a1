"""Find or start a PostgreSQL server for tests and hand out isolated schemas."""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.support import free_port, kill_with_parent

ENV_URL = "CHANNEL_TEST_DATABASE_URL"
LOCAL_HOST = "127.0.0.1"
LOCAL_PORT = 5432
# (user, database) pairs tried, in order, on the local server.
LOCAL_CANDIDATES = (("postgres", "test"), ("postgres", "postgres"), ("root", "test"),
                    ("root", "postgres"))


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started."""


def probe(url: str, timeout: int = 2) -> str | None:
    """Return None if `url` accepts a connection and a query, else the error text."""
    try:
        with psycopg.connect(split_schema(url)[0], connect_timeout=timeout,
                             autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip()}"
    return None


def split_schema(url: str) -> tuple[str, str | None]:
    """Split `postgresql://…?schema=S` into a libpq URL without `schema` and S."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def base_url(url: str) -> str:
    """The URL without any query string (`postgresql://user@host:port/db`)."""
    return urlunsplit(urlsplit(url)._replace(query="", fragment=""))


def connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """Open a psycopg connection; a `schema` query parameter becomes the search_path."""
    conninfo, schema = split_schema(url)
    if schema is not None:
        kwargs.setdefault("options", f"-c search_path={schema}")
    return psycopg.connect(conninfo, **kwargs)


def eventsourcing_env(url: str) -> dict[str, str]:
    """The eventsourcing POSTGRES_* settings equivalent to `url` (schema included)."""
    parts = urlsplit(url)
    _, schema = split_schema(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or LOCAL_HOST,
        "POSTGRES_PORT": str(parts.port or LOCAL_PORT),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env


def create_schema(url: str, prefix: str = "test") -> str:
    """Create a uniquely named schema; return `url` with `?schema=NAME` added."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}".lower()
    with psycopg.connect(split_schema(url)[0], autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    parts = urlsplit(base_url(url))
    return urlunsplit(parts._replace(query=urlencode({"schema": name})))


def drop_schema(url: str) -> None:
    """Drop the schema named in `url` (CASCADE); a URL without one is left alone."""
    conninfo, schema = split_schema(url)
    if not schema:
        return
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # Tests may leave sessions open (pools, LISTEN); don't wait on their locks forever.
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextlib.contextmanager
def isolated_schema(url: str, prefix: str = "test") -> Iterator[str]:
    """Yield a fresh-schema URL for the server at `url`; drop the schema afterwards."""
    schema_url = create_schema(url, prefix)
    try:
        yield schema_url
    finally:
        drop_schema(schema_url)


class PostgresServer:
    """A server the tests use: its base URL, and how it was found."""

    def __init__(self, url: str, origin: str) -> None:
        self.url = url
        self.origin = origin

    def stop(self) -> None:
        """Nothing to do for a server the tests did not start."""

    def __repr__(self) -> str:
        return f"<PostgresServer {self.origin} {self.url}>"


class ThrowawayPostgres(PostgresServer):
    """A server started with initdb + postgres in a temporary directory, trust auth."""

    def __init__(self, bindir: Path, startup_timeout: float = 60.0) -> None:
        self.bindir = bindir
        self.directory = Path(tempfile.mkdtemp(prefix="channel-pg-"))
        self.data = self.directory / "data"
        self.log_path = self.directory / "postgres.log"
        self.port = free_port()
        self.user = "postgres"
        self.process: subprocess.Popen[bytes] | None = None
        # initdb refuses to run as root: run the server as an unprivileged account.
        self.run_as = _unprivileged_user() if os.geteuid() == 0 else None
        if self.run_as is not None:
            os.chown(self.directory, self.run_as.pw_uid, self.run_as.pw_gid)
        super().__init__(f"postgresql://{self.user}@{LOCAL_HOST}:{self.port}/postgres",
                         "throwaway")
        atexit.register(self.stop)
        try:
            self._start(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _run_kwargs(self) -> dict[str, Any]:
        if self.run_as is None:
            return {}
        return {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}

    def _start(self, startup_timeout: float) -> None:
        initdb = subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user,
             "--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions"],
            capture_output=True, text=True, check=False, timeout=120, **self._run_kwargs())
        if initdb.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {initdb.stderr.strip()}")
        self._launch(startup_timeout)

    def restart(self, down_seconds: float = 0.0, startup_timeout: float = 60.0) -> None:
        """Stop the server (fast shutdown: sessions cut), stay down `down_seconds`, start it
        again on the same port with the same data (fault tests)."""
        self._halt()
        time.sleep(down_seconds)
        self._launch(startup_timeout)

    def _halt(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def _launch(self, startup_timeout: float) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", f"listen_addresses={LOCAL_HOST}",
                 "-c", f"unix_socket_directories={self.directory}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=kill_with_parent(signal.SIGQUIT), **self._run_kwargs())
        deadline = time.monotonic() + startup_timeout
        while (error := probe(self.url, timeout=1)) is not None:
            if self.process.poll() is not None:
                raise PostgresUnavailable(
                    f"postgres exited with {self.process.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"postgres did not answer in time: {error}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Fast shutdown of the server; remove its directory."""
        self._halt()
        shutil.rmtree(self.directory, ignore_errors=True)


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailable("running as root and no 'postgres' or 'nobody' account for initdb")


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL bin directory holding initdb and postgres, if any."""
    candidates = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")]
    candidates.sort(key=lambda p: _version_key(p.parent.name), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def find_postgres_server() -> PostgresServer:
    """The env URL, else the local server on 127.0.0.1:5432, else a throwaway server.

    Raises PostgresUnavailable, with every reason, when none of these works.
    """
    reasons: list[str] = []
    env_url = os.environ.get(ENV_URL)
    if env_url:
        error = probe(env_url, timeout=5)
        if error is None:
            return PostgresServer(base_url(env_url), "env")
        # An address given on purpose must work: don't fall back silently.
        raise PostgresUnavailable(f"{ENV_URL}={env_url} does not answer: {error}")
    for user, dbname in LOCAL_CANDIDATES:
        url = f"postgresql://{quote(user)}@{LOCAL_HOST}:{LOCAL_PORT}/{dbname}"
        error = probe(url)
        if error is None:
            return PostgresServer(url, "local")
        reasons.append(f"{url}: {error}")
        if "Connection refused" in error or "timeout" in error.lower():
            break  # no server there: don't try the other users
    bindir = postgres_bindir()
    if bindir is None:
        reasons.append("no initdb/postgres under /usr/lib/postgresql/*/bin or on PATH")
    else:
        try:
            return ThrowawayPostgres(bindir)
        except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"throwaway server from {bindir}: {exc}")
    raise PostgresUnavailable("no PostgreSQL server for tests:\n  " + "\n  ".join(reasons))
