"""Durable feedback and answer log: SQLite (WAL) at <data_dir>/feedback.sqlite3."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from bot.answer import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down', 'comment')),
    comment TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'api',
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_answer ON feedback(answer_id);
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_created ON answers(created);
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def add_feedback(self, answer_id: str, rating: str, comment: str = "") -> dict[str, Any]:
        created = _now()
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO feedback (answer_id, rating, comment, created) VALUES (?, ?, ?, ?)",
                (answer_id, rating, comment, created),
            )
        return {
            "id": cur.lastrowid,
            "answer_id": answer_id,
            "rating": rating,
            "comment": comment,
            "created": created,
        }

    def feedback(self, answer_id: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT id, answer_id, rating, comment, created FROM feedback"
        args: tuple[Any, ...] = ()
        if answer_id:
            query += " WHERE answer_id = ?"
            args = (answer_id,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY id", args).fetchall()
        return [dict(zip(("id", "answer_id", "rating", "comment", "created"), r, strict=True)) for r in rows]

    def log_answer(self, answer: Answer) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO answers (answer_id, question, answer_json, created) VALUES (?, ?, ?, ?)",
                (answer.answer_id, answer.question, answer.model_dump_json(), _now()),
            )

    def answer(self, answer_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT answer_json FROM answers WHERE answer_id = ?", (answer_id,)
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def prune(self, retention_days: int) -> int:
        if retention_days <= 0:
            return 0
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=retention_days)).isoformat(timespec="seconds")
        with self._lock:
            return self._conn.execute("DELETE FROM answers WHERE created < ?", (cutoff,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()
