"""SQLite connections for the stores that several worker processes share (sessions, feedback): WAL, a
30 s busy timeout, and a journal-mode switch that waits for the other processes instead of failing."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

BUSY_TIMEOUT_S = 30.0


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection to a WAL database, usable from any thread (callers serialise their use)."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    _use_wal(connection)
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def open_store(path: Path, schema: str) -> sqlite3.Connection:
    """`connect` to a store's file (its folder created) with its schema applied (`CREATE … IF NOT EXISTS`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = connect(path)
    connection.executescript(schema)
    return connection


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
