"""Throw-away servers on loopback for the storage tests, the multi-replica test and `make bench`: PostgreSQL
(initdb + pg_ctl from Debian's PostgreSQL 15), Redis (redis-server), Chroma (`chroma run`) and nginx, each in
its own temporary directory on a free port, each stopped by `stop()` (and by the `with` block that owns it).

PostgreSQL refuses to run as root: as root the cluster is created and started as the `postgres` user (the
temporary directory is handed to it)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evals.bench.server import free_port

POSTGRES_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/local/bin"), Path("/usr/bin"))
START_TIMEOUT_S = 60.0


class ServiceUnavailable(RuntimeError):
    """A server binary is missing or the server did not start (the message says which and why)."""


def postgres_bin_dir() -> Path | None:
    """The directory with initdb and pg_ctl, or None when PostgreSQL is not installed."""
    for directory in POSTGRES_BIN_DIRS:
        if (
            (directory / "initdb").exists()
            and (directory / "pg_ctl").exists()
            and (directory / "postgres").exists()
        ):
            return directory
    return None


def _wait_until(ready: Callable[[], bool], what: str, process: subprocess.Popen | None, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process is not None and process.poll() is not None:
            raise ServiceUnavailable(f"{what} exited with {process.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            raise ServiceUnavailable(f"{what} not ready after {START_TIMEOUT_S:.0f}s: {_tail(log)}")
        time.sleep(0.1)


def _tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in a temporary directory; `url` reaches its `policybot` database."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="policybot-pg-")))
    port: int = field(default_factory=free_port)
    started: bool = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://policybot@127.0.0.1:{self.port}/policybot"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def _run(self, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:  # postgres will not run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> PostgresServer:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise ServiceUnavailable("PostgreSQL 15 binaries (initdb, pg_ctl) not found")
        data = self.root / "data"
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        if not data.exists():
            done = self._run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "policybot",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--locale=C",
                ]
            )
            if done.returncode != 0:
                raise ServiceUnavailable(f"initdb failed: {done.stderr[-1500:]}")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200"
        )
        done = self._run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        if done.returncode != 0:
            raise ServiceUnavailable(f"pg_ctl start failed: {done.stderr[-800:]} {_tail(self.log)}")
        self.started = True
        created = self._run(
            self._client(
                bin_dir,
                "psql",
                "-d",
                "postgres",
                "-tAc",
                "SELECT 1 FROM pg_database WHERE datname='policybot'",
            )
        )
        if created.stdout.strip() != "1":
            made = self._run(self._client(bin_dir, "createdb", "policybot"))
            if made.returncode != 0:
                raise ServiceUnavailable(f"createdb failed: {made.stderr[-800:]}")
        return self

    def _client(self, bin_dir: Path, tool: str, *args: str) -> list[str]:
        return [str(bin_dir / tool), "-h", "127.0.0.1", "-p", str(self.port), "-U", "policybot", *args]

    def stop(self, mode: str = "fast") -> None:
        bin_dir = postgres_bin_dir()
        if self.started and bin_dir is not None:
            self._run([str(bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "-w", "stop"])
        self.started = False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class ProcessServer:
    """A server that runs as a child process in the foreground, with its log in its directory."""

    name: str
    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    def _spawn(
        self, command: Sequence[str], ready: Callable[[], bool], env: dict[str, str] | None = None
    ) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                list(command),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=env,
                start_new_session=True,
            )
        _wait_until(ready, self.name, self.process, self.log)

    def stop(self) -> None:
        _stop(self.process)
        self.process = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self, path: str) -> Callable[[], bool]:
        """Readiness: `path` answers 200."""
        import httpx

        def ready() -> bool:
            try:
                return httpx.get(self.base_url + path, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        return ready


class RedisServer(ProcessServer):
    def __init__(self, root: Path) -> None:
        super().__init__("redis", root)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            raise ServiceUnavailable("redis-server not found (apt-get install redis-server)")
        import redis

        def ready() -> bool:
            try:
                return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
            except redis.RedisError:
                return False

        self._spawn(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.root),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            ready,
        )
        return self


class ChromaServer(ProcessServer):
    def __init__(self, root: Path) -> None:
        super().__init__("chroma", root)

    def start(self) -> ChromaServer:
        executable = Path(sys.executable).parent / "chroma"
        if not executable.exists():
            raise ServiceUnavailable(f"`chroma` executable not found next to {sys.executable}")
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        def ready() -> bool:
            try:
                chromadb.HttpClient(
                    host="127.0.0.1", port=self.port, settings=ChromaSettings(anonymized_telemetry=False)
                ).heartbeat()
                return True
            except Exception:
                return False

        self._spawn(
            [
                str(executable),
                "run",
                "--path",
                str(self.root / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            ready,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        return self


class EmbeddingServer(ProcessServer):
    """`policybot embed-server`: the packaged e5 model behind an OpenAI-compatible /v1/embeddings."""

    def __init__(self, root: Path, threads: int = 2) -> None:
        super().__init__("embed-server", root)
        self.threads = threads

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1"

    def start(self) -> EmbeddingServer:
        executable = Path(sys.executable).parent / "policybot"
        self._spawn(
            [str(executable), "embed-server", "--port", str(self.port), "--threads", str(self.threads)],
            self.answers("/healthz"),
        )
        return self
