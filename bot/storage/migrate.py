"""Bring a database to the current schema with the Alembic migrations, once per process and database.

Several processes (workers, replicas) may start together: the migration runs in one transaction that first
takes a lock (SQLite: the write lock, `BEGIN IMMEDIATE`; PostgreSQL: a transaction-level advisory lock),
so the others wait and then find the schema current."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.database import Database, DatabaseUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0001"  # the newest revision (tests/bot/storage/test_migrations.py checks it against the scripts)
MIGRATION_LOCK_ID = 0x706F6C6963790001  # pg_advisory_xact_lock key: "policy" + 1

_done: set[str] = set()
_done_lock = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def script_head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(database: Database) -> None:
    """Migrate `database` to HEAD (a no-op after the first call in this process)."""
    with _done_lock:
        if database.url in _done:
            return
    try:
        with database.read() as connection:
            current = current_revision(connection)
        if current != HEAD:
            with database.write() as connection:
                if database.dialect == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_ID})
                command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseUnavailable(f"cannot use the database {database.describe()}: {reason}") from exc
    with _done_lock:
        _done.add(database.url)
