"""One database connection pool: SQLite (a file under the data dir, the embedded default) or PostgreSQL
(`POLICYBOT_DATABASE_URL=postgresql+psycopg://…`), both through SQLAlchemy Core.

SQLite is opened the way several worker processes can share it: WAL, a 30 s busy timeout, and write
transactions that take the write lock at BEGIN (`BEGIN IMMEDIATE`), so two writers queue instead of failing
with "database is locked" half-way. Reads run in autocommit (one statement each, never blocked by a writer)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 5


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached or used (said once, clearly, at start-up)."""


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


class Database:
    """An engine plus the two ways the stores use it: `write()` (one transaction) and `read()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url)
        elif self.dialect == "postgresql":
            self.engine = create_engine(
                url,
                pool_pre_ping=True,  # a restarted server or a dropped connection is replaced, not raised
                pool_size=5,
                max_overflow=10,
                connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            )
        else:
            raise DatabaseUnavailable(
                f"unsupported database {safe_url(url)}: use sqlite:///… or postgresql+psycopg://…"
            )

    @classmethod
    def sqlite_file(cls, path: Path) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{path}")

    @property
    def is_shared(self) -> bool:
        """True for a server database that several machines reach (PostgreSQL)."""
        return self.dialect != "sqlite"

    def describe(self) -> str:
        return safe_url(self.url)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}, pool_pre_ping=False
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, explicitly
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        _use_wal(dbapi_connection)
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(connection: sqlite3.Connection) -> None:
    # Switching a new database to WAL can fail at once with "database is locked" while another process
    # (workers starting together) does the same; SQLite's busy handler does not cover that case.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


_shared: dict[str, Database] = {}
_shared_lock = threading.Lock()


def shared_database(url: str) -> Database:
    """One pool per URL and process: the API, the chat channels and the index sync share it."""
    with _shared_lock:
        database = _shared.get(url)
        if database is None:
            database = _shared[url] = Database(url)
        return database
