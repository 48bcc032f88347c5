"""Shared fixtures: repository paths, one library built over the real corpus per session, and a real
`chroma run` server for the tests marked `chroma_server`."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.config import Settings
from bot.library_factory import make_library
from evals.bench.server import free_port
from evals.cluster.services import PostgresServer, RedisServer, ServiceUnavailable, postgres_bin_dir
from retrieval.embeddings import E5Embeddings
from retrieval.library import PolicyLibrary

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT / "corpus"
SERVER_START_TIMEOUT = 60.0

ZIBO = "zibo-new-infra-2021"
SHANDONG_PLAN = "shandong-new-infra-2020"
SHANDONG_OPINIONS = "shandong-digital-infra-opinions-2020"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS_DIR


@pytest.fixture(scope="session")
def e5() -> E5Embeddings:
    """One packaged e5 model for the tests that compose a library by hand."""
    return E5Embeddings(threads=2)


def library_settings(data_dir: Path, chroma: tuple[str, int] | None = None) -> Settings:
    host, port = chroma if chroma else (None, 8000)
    return Settings(data_dir=data_dir, corpus_dir=CORPUS_DIR, chroma_host=host, chroma_port=port)


@pytest.fixture(scope="session")
def built_library(tmp_path_factory: pytest.TempPathFactory) -> PolicyLibrary:
    """The real corpus indexed once into embedded Chroma in a temporary data directory."""
    library = make_library(library_settings(tmp_path_factory.mktemp("library")))
    report = library.build()
    assert report.published and not report.errors, report.as_dict()
    return library


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real Chroma server (`chroma run`, the executable installed next to this Python)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    executable = Path(sys.executable).parent / "chroma"
    if not executable.exists():
        pytest.fail(f"`chroma` executable not found next to {sys.executable}")
    host, port = "127.0.0.1", free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path.parent / f"chroma-server-{port}.log").open("wb")
    process = subprocess.Popen(
        [str(executable), "run", "--path", str(path), "--host", host, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"chroma server exited with code {process.returncode}; see {log.name}")
            try:
                client = chromadb.HttpClient(
                    host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False)
                )
                client.heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline:
                    pytest.fail(f"chroma server not ready after {SERVER_START_TIMEOUT:.0f}s; see {log.name}")
                time.sleep(0.25)
        yield host, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _missing(what: str) -> None:
    """Skip a test whose server is not installed, except in CI (CI=true), where .ci/run installs it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} not installed")


_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if postgres_bin_dir() is None:
        _missing("PostgreSQL 15 (initdb, pg_ctl)")
    server = PostgresServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        server.remove()
        pytest.fail(str(exc))
    yield server
    server.remove()


def fresh_postgres_database(server: PostgresServer) -> str:
    """The URL of a new, empty database on `server`."""
    name = f"test_{os.getpid()}_{next(_numbers)}"
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.url.rsplit("/", 1)[0] + f"/{name}"




@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port."""
    import shutil

    if shutil.which("redis-server") is None:
        _missing("redis-server")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except ServiceUnavailable as exc:
        server.stop()
        pytest.fail(str(exc))
    yield server
    server.stop()
