"""The Alembic migrations: HEAD matches the scripts; a data dir written before migrations existed (the old
SQLite files, including the oldest Telegram feedback table without ids) is upgraded in place with its rows;
processes that open new stores together do not fail."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from sqlalchemy import inspect

from bot.answer import Answer, Turn
from bot.storage import schema
from bot.storage.database import Database
from bot.storage.feedback import FeedbackStore
from bot.storage.migrate import HEAD, current_revision, script_head, upgrade
from bot.storage.sessions import SqlSessionStore

OLD_SESSIONS = """
CREATE TABLE turns (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, payload TEXT NOT NULL,
    created REAL NOT NULL);
CREATE INDEX turns_session ON turns(session_id, id);
CREATE TABLE session_values (session_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (session_id, key));
"""
OLD_TELEGRAM_FEEDBACK = """
CREATE TABLE feedback (answer_id TEXT NOT NULL, rating TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '', created TEXT NOT NULL);
"""
OLD_API_FEEDBACK = """
CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down', 'comment')), comment TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'api', created TEXT NOT NULL);
CREATE INDEX feedback_answer ON feedback(answer_id);
CREATE TABLE answers (answer_id TEXT PRIMARY KEY, question TEXT NOT NULL, answer_json TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE INDEX answers_created ON answers(created);
"""


def test_head_is_the_newest_script() -> None:
    assert script_head() == HEAD


def test_new_database_gets_every_table(database: Database) -> None:
    upgrade(database)
    with database.read() as connection:
        assert current_revision(connection) == HEAD
        assert set(schema.metadata.tables) <= set(inspect(connection).get_table_names())


def _old_data_dir(root: Path, feedback_schema: str) -> None:
    turn = Turn(question="问题", standalone_question="问题", answer="回答")
    with sqlite3.connect(root / "sessions.sqlite3") as db:
        db.executescript(OLD_SESSIONS)
        db.execute(
            "INSERT INTO turns (session_id, payload, created) VALUES ('s1', ?, 1.0)",
            (turn.model_dump_json(),),
        )
        db.execute("INSERT INTO session_values VALUES ('s1', 'last_answer', '{\"answer\": \"回答\"}')")
    db.close()
    with sqlite3.connect(root / "feedback.sqlite3") as db:
        db.executescript(feedback_schema)
        for answer_id in ("a1", "a2"):
            db.execute(
                "INSERT INTO feedback (answer_id, rating, comment, source, created)"
                " VALUES (?, 'down', '旧', 'telegram:1:1', '2025-01-01T00:00:00+00:00')",
                (answer_id,),
            )
    db.close()


def test_an_old_data_dir_is_upgraded_in_place(tmp_path: Path) -> None:
    for name, feedback_schema in (("api", OLD_API_FEEDBACK), ("telegram", OLD_TELEGRAM_FEEDBACK)):
        root = tmp_path / name
        root.mkdir()
        _old_data_dir(root, feedback_schema)
        sessions = SqlSessionStore(root / "sessions.sqlite3")
        assert [t.answer for t in sessions.history("s1")] == ["回答"]
        assert sessions.get_value("s1", "last_answer") == {"answer": "回答"}
        sessions.append("s1", Turn(question="再问", standalone_question="再问", answer="再答"))
        feedback = FeedbackStore(root / "feedback.sqlite3")
        assert [(r["id"], r["answer_id"]) for r in feedback.feedback()] == [(1, "a1"), (2, "a2")]
        assert feedback.add_feedback("a3", "up")["id"] == 3
        feedback.log_answer(Answer(answer_id="a3", answer="答", question="问"))
        assert feedback.answer("a3")["answer"] == "答"
        sessions.close()
        feedback.close()
        assert sqlite3.connect(root / "feedback.sqlite3").execute("PRAGMA journal_mode").fetchone() == (
            "wal",
        )


def _open_both(directory: str, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    SqlSessionStore(Path(directory) / "sessions.sqlite3").close()
    FeedbackStore(Path(directory) / "feedback.sqlite3").close()


def test_processes_creating_the_stores_together(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(5):
        directory = tmp_path / str(attempt)
        start = context.Event()
        workers = [context.Process(target=_open_both, args=(str(directory), start)) for _ in range(6)]
        for worker in workers:
            worker.start()
        start.set()
        for worker in workers:
            worker.join(60)
        assert [w.exitcode for w in workers] == [0] * len(workers), f"attempt {attempt}"
        store = FeedbackStore(directory / "feedback.sqlite3")
        with store.database.read() as connection:
            assert current_revision(connection) == HEAD
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        store.close()
