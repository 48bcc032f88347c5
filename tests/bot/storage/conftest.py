"""Every storage test runs twice: on SQLite (the embedded default) and on PostgreSQL 15 (a throw-away
cluster started once per session with initdb/pg_ctl; a fresh database per test). Without the PostgreSQL
binaries the PostgreSQL half is skipped, except in CI (CI=true), where it fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage.database import Database
from tests.conftest import fresh_postgres_database


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
