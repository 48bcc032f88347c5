"""Shared fixtures: repository paths, one library built over the real corpus per session, and a real
`chroma run` server for the tests marked `chroma_server`."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, text

from bot.config import Settings
from bot.library_factory import make_library
from evals.bench.server import free_port  # noqa: F401  (tests import it from here)
from evals.cluster.services import (
    ChromaServer,
    PostgresServer,
    RedisServer,
    ServiceUnavailable,
    postgres_bin_dir,
)
from retrieval.embeddings import E5Embeddings
from retrieval.library import PolicyLibrary

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT / "corpus"
T = TypeVar("T")

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
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    yield from _serving(server, server.stop, ("127.0.0.1", server.port))


def _missing(what: str) -> None:
    """Skip a test whose server is not installed, except in CI (CI=true), where .ci/run installs it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} not installed")


_numbers = itertools.count()


def _serving(server: Any, cleanup: Callable[[], None], value: T) -> Iterator[T]:
    """Start `server`, yield `value` while it runs, then `cleanup` (also when it did not start)."""
    try:
        server.start()
    except ServiceUnavailable as exc:
        cleanup()
        pytest.fail(str(exc))
    try:
        yield value
    finally:
        cleanup()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if postgres_bin_dir() is None:
        _missing("PostgreSQL 15 (initdb, pg_ctl)")
    server = PostgresServer()
    yield from _serving(server, server.remove, server)


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
    yield from _serving(server, server.stop, server)
