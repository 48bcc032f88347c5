"""A real `policybot serve` subprocess over an existing index, for `make bench` and the multi-worker test.

The child gets a clean environment (no POLICYBOT_/TELEGRAM_/CHROMA_ variables of the caller), the data and
corpus directories, the rate limiter off and one embedding thread; its output goes to `<workdir>/serve.log`. It
is ready when /readyz has answered 200 several times in a row (most likely from every worker); it is stopped
with SIGTERM, then killed if it has not exited after 30 s."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"


class ServerNotReady(RuntimeError):
    """The server exited or did not become ready in time (it has been stopped; the log tail is in the message)."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log_path: Path
    log: IO[bytes]
    first_ready: float  # seconds from the start to the first 200 from /readyz
    all_ready: float  # seconds from the start to the last of the 200s in a row

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM, then kill after 30 s; closes the log."""
        try:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        finally:
            self.log.close()


def serve_env(
    data_dir: Path, corpus_dir: Path = CORPUS, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The child's environment: the caller's without its policybot settings, plus the benchmark settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "TELEGRAM_", "CHROMA_"))}
    env.update(
        POLICYBOT_DATA_DIR=str(data_dir),
        POLICYBOT_CORPUS_DIR=str(corpus_dir),
        POLICYBOT_RATE_LIMIT_PER_MINUTE="0",  # 0 = limiter off (bot/api/app.py)
        POLICYBOT_EMBEDDING_THREADS="1",
    )
    env.update(extra or {})
    return env


def start_server(
    data_dir: Path,
    workdir: Path,
    *,
    workers: int = 2,
    corpus_dir: Path = CORPUS,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    ready_in_a_row: int = 10,
    poll_ready: float = 0.05,
    poll_waiting: float = 0.1,
    port: int | None = None,
) -> Server:
    """Start `policybot serve --workers N` on a free port and wait until it is ready.

    Raises ServerNotReady (after stopping it) when it exits or is not ready within `timeout` seconds."""
    port = port or free_port()
    log_path = workdir / "serve.log"
    log = log_path.open("ab")
    command = [str(Path(sys.executable).parent / "policybot"), "serve", "--workers", str(workers)]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=serve_env(data_dir, corpus_dir, extra_env),
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, f"http://127.0.0.1:{port}", log_path, log, 0.0, 0.0)
    first_ready: float | None = None
    in_a_row = 0
    deadline = time.monotonic() + timeout
    while in_a_row < ready_in_a_row:  # several in a row: most likely from every worker
        problem = None
        if process.poll() is not None:
            problem = f"policybot serve exited with {process.returncode}"
        elif time.monotonic() > deadline:
            problem = f"policybot serve not ready after {timeout:.0f}s"
        if problem:
            server.stop()
            raise ServerNotReady(f"{problem}: {server.tail()}")
        try:
            ok = httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok and first_ready is None:
            first_ready = time.perf_counter() - started
        in_a_row = in_a_row + 1 if ok else 0
        time.sleep(poll_ready if ok else poll_waiting)
    server.first_ready = first_ready or 0.0
    server.all_ready = time.perf_counter() - started
    return server
