"""One index builder at a time: across machines with a PostgreSQL advisory lock (released by the server if
the holder dies), on one machine with a lock file beside the index."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import text

from bot.storage.database import Database

PUBLISH_LOCK_ID = 0x706F6C6963790002  # "policy" + 2 (0001 is the migration lock)

BuildLock = Callable[[], AbstractContextManager[None]]


def publish_lock(database: Database, lock_file: Path) -> BuildLock:
    """The lock that serialises upload → build → publish for everyone who shares `database`."""
    if database.dialect == "postgresql":
        return lambda: _advisory_lock(database)
    return lambda: _file_lock(lock_file)


@contextmanager
def _advisory_lock(database: Database) -> Iterator[None]:
    with database.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PUBLISH_LOCK_ID})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PUBLISH_LOCK_ID})
            connection.commit()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
