"""One store (bot/feedback_store.py) for the API and the Telegram bot over <data_dir>/feedback.sqlite3:
rows from both surfaces in one table, files written by the two older stores still open, the answer log."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.answer import Answer
from bot.feedback_store import FeedbackStore

# the `feedback` table as the old Telegram-only store (bot/telegram/feedback.py, before the move to bot/channels/) created it
OLD_TELEGRAM_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL,
    rating TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
)
"""
# the tables as the old API store (bot/api/feedback_store.py) created them
OLD_API_SCHEMA = """
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


def _old_file(path: Path, schema: str | None, rows: list[tuple[str, str, str, str]]) -> None:
    if schema is None:
        return
    with sqlite3.connect(path) as conn:
        conn.executescript(schema)
        conn.executemany(
            "INSERT INTO feedback (answer_id, rating, comment, source, created) "
            "VALUES (?, ?, ?, ?, '2025-01-01T00:00:00+00:00')",
            rows,
        )
    conn.close()


@pytest.mark.parametrize("created_by", ["new", "old-api", "old-telegram"])
def test_api_and_telegram_rows_in_one_table(tmp_path: Path, created_by: str) -> None:
    path = tmp_path / "feedback.sqlite3"
    schema = {"new": None, "old-api": OLD_API_SCHEMA, "old-telegram": OLD_TELEGRAM_SCHEMA}[created_by]
    old_rows = [] if schema is None else [("a0", "down", "旧的", "telegram:1:1")]
    _old_file(path, schema, old_rows)
    # webhook mode: the API's store and the Telegram bot's store are open on the same file at once
    api, telegram = FeedbackStore(path), FeedbackStore(path)
    api.add_feedback("a1", "up", "好", "api")
    telegram.add_feedback("a2", "down", "", "telegram:7:8")
    telegram.add_feedback("a2", "comment", "答案不完整", "telegram:7:8")
    rows = api.feedback()
    assert [(r["answer_id"], r["rating"], r["comment"], r["source"]) for r in rows] == [
        *old_rows,
        ("a1", "up", "好", "api"),
        ("a2", "down", "", "telegram:7:8"),
        ("a2", "comment", "答案不完整", "telegram:7:8"),
    ]
    ids = [r["id"] for r in rows]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(set(ids))
    assert [r["rating"] for r in telegram.feedback("a2")] == ["down", "comment"]
    # the answer log exists whichever store created the file
    telegram.log_answer(Answer(answer_id="a2", answer="回答", question="问题？"))
    assert api.answer("a2")["question"] == "问题？"
    api.close()
    telegram.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_add_feedback_returns_the_row_and_defaults_to_the_api_source(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    row = store.add_feedback("a1", "down", "不对")
    assert row["source"] == "api" and row["id"] == 1 and row["created"]
    assert store.feedback("a1") == [row]
    store.close()


@pytest.mark.parametrize("schema", [OLD_API_SCHEMA, OLD_TELEGRAM_SCHEMA])
def test_unknown_rating_rejected_even_without_the_check_constraint(tmp_path: Path, schema: str) -> None:
    path = tmp_path / "feedback.sqlite3"
    _old_file(path, schema, [])
    store = FeedbackStore(path)
    with pytest.raises(ValueError, match="rating"):
        store.add_feedback("a1", "meh")
    assert store.feedback() == []
    store.close()


def test_answer_log_replace_and_prune(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(path)
    store.log_answer(Answer(answer_id="a1", answer="旧", question="问？"))
    store.log_answer(Answer(answer_id="a1", answer="新", question="问？"))
    assert store.answer("a1")["answer"] == "新" and store.answer("none") is None
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE answers SET created = '2000-01-01T00:00:00+00:00'")
    conn.close()
    assert store.prune(0) == 0 and store.answer("a1") is not None
    assert store.prune(90) == 1 and store.answer("a1") is None
    store.close()


def test_concurrent_writers_from_threads(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")

    def write(n: int) -> None:
        for i in range(20):
            store.add_feedback(f"a{n}-{i}", "up", "", f"telegram:{n}:{n}")
            store.log_answer(Answer(answer_id=f"a{n}-{i}", answer="x", question="q"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.feedback()) == 80
    store.close()
