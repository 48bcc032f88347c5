"""Every storage test runs twice: on SQLite (the embedded default) and on PostgreSQL 15 (a throw-away
cluster started once per session with initdb/pg_ctl; a fresh database per test). Without the PostgreSQL
binaries the PostgreSQL half is skipped, except in CI (CI=true), where it fails."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.storage.database import Database
from evals.cluster.services import PostgresServer, ServiceUnavailable, postgres_bin_dir

_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if postgres_bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL 15 binaries (initdb, pg_ctl) are required in CI")
        pytest.skip("PostgreSQL 15 binaries (initdb, pg_ctl) not installed")
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'policybot.sqlite3'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()
