"""👍/👎 and /feedback comments in a small SQLite table: <data_dir>/feedback.sqlite3."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL,
    rating TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
)
"""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path)
        conn.execute(SCHEMA)
        return conn

    def record(self, answer_id: str, rating: str, comment: str = "", source: str = "telegram") -> None:
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._lock:
            conn = self._connect()
            try:
                with conn:
                    conn.execute(
                        "INSERT INTO feedback (answer_id, rating, comment, source, created) VALUES (?, ?, ?, ?, ?)",
                        (answer_id, rating, comment, source, created),
                    )
            finally:
                conn.close()

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        with self._lock:
            conn = self._connect()
            try:
                return list(
                    conn.execute(
                        "SELECT answer_id, rating, comment, source, created FROM feedback ORDER BY rowid"
                    )
                )
            finally:
                conn.close()
