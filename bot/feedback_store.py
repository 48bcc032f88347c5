"""Durable feedback and answer log shared by every surface: SQLite (WAL) at <data_dir>/feedback.sqlite3.

`feedback` holds 👍/👎/comments from the API (source "api") and Telegram ("telegram:<chat>:<user>");
`answers` holds every answer a surface sent (when `log_answers` is on), so `policybot eval export-feedback`
can turn a 👎 into a draft eval item with the question and the answer given.

Files written by the older Telegram-only store have a `feedback` table without the `id` column and the
CHECK on `rating`: they keep working (rows are addressed by `rowid`, which is `id` where it exists, and
ratings are checked here as well)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from bot import sqlite_wal
from bot.answer import Answer

RATINGS = ("up", "down", "comment")

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
_FEEDBACK_COLUMNS = ("id", "answer_id", "rating", "comment", "source", "created")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """One connection, serialised by a lock: safe to call from worker threads (to_thread/threadpool)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite_wal.open_store(self.path, _SCHEMA)

    def add_feedback(
        self, answer_id: str, rating: str, comment: str = "", source: str = "api"
    ) -> dict[str, Any]:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
        created = _now()
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO feedback (answer_id, rating, comment, source, created) VALUES (?, ?, ?, ?, ?)",
                (answer_id, rating, comment, source, created),
            )
        return {
            "id": cur.lastrowid,
            "answer_id": answer_id,
            "rating": rating,
            "comment": comment,
            "source": source,
            "created": created,
        }

    def feedback(self, answer_id: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT rowid, answer_id, rating, comment, source, created FROM feedback"
        args: tuple[Any, ...] = ()
        if answer_id:
            query += " WHERE answer_id = ?"
            args = (answer_id,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY rowid", args).fetchall()
        return [dict(zip(_FEEDBACK_COLUMNS, r, strict=True)) for r in rows]

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
        """Drops logged answers older than `retention_days` (0 or less: keep everything)."""
        if retention_days <= 0:
            return 0
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=retention_days)).isoformat(timespec="seconds")
        with self._lock:
            return self._conn.execute("DELETE FROM answers WHERE created < ?", (cutoff,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()
