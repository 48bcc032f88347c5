"""Which incoming messages the chat channels have taken on, in `<data_dir>/channel_messages.sqlite3` (WAL), so a
platform's retry or redelivery is answered once even when it reaches another worker process (`serve --workers
N`) or arrives after a restart. A claim is one INSERT OR IGNORE on the message key; claims older than a day
are dropped (platforms retry within seconds to minutes)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from bot import sqlite_wal

KEEP = dt.timedelta(days=1)
PRUNE_EVERY = 1000  # claims between two prunes

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claimed (
    key TEXT PRIMARY KEY,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claimed_created ON claimed(created);
"""


class MessageClaims:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite_wal.open_store(self.path, _SCHEMA)
        self._since_prune = 0

    def claim(self, key: str) -> bool:
        """True for the first claim of `key` by any process; False for every later one."""
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            inserted = self._conn.execute(
                "INSERT OR IGNORE INTO claimed (key, created) VALUES (?, ?)", (key, now.isoformat())
            ).rowcount
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY:
                self._since_prune = 0
                self._conn.execute("DELETE FROM claimed WHERE created < ?", ((now - KEEP).isoformat(),))
        return inserted == 1

    def close(self) -> None:
        with self._lock:
            self._conn.close()
