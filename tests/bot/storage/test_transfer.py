"""An embedded data dir (old-format SQLite files and an uploads folder) moved into the shared database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage.database import Database
from bot.storage.feedback import FeedbackStore
from bot.storage.registry import DocumentRegistry
from bot.storage.sessions import SqlSessionStore
from bot.storage.transfer import TargetNotEmpty, import_sqlite_dir
from tests.bot.storage.test_migrations import OLD_TELEGRAM_FEEDBACK, _old_data_dir


def test_an_old_data_dir_moves_into_the_database(tmp_path: Path, database: Database) -> None:
    data_dir = tmp_path / "old-data"
    data_dir.mkdir()
    _old_data_dir(data_dir, OLD_TELEGRAM_FEEDBACK)
    (data_dir / "uploads").mkdir()
    (data_dir / "uploads" / "my-upload.md").write_bytes("---\nid: my-upload\n---\n正文".encode())

    copied = import_sqlite_dir(data_dir, database)
    assert copied == {
        "turns": 1,
        "session_values": 1,
        "feedback": 2,
        "answers": 0,
        "uploads": 1,
    }
    sessions = SqlSessionStore(database)
    assert [t.answer for t in sessions.history("s1")] == ["回答"]
    assert sessions.get_value("s1", "last_answer") == {"answer": "回答"}
    feedback = FeedbackStore(database)
    assert [r["answer_id"] for r in feedback.feedback()] == ["a1", "a2"]
    assert feedback.add_feedback("a3", "up")["id"] > max(r["id"] for r in feedback.feedback()[:2])
    assert [u.doc_id for u in DocumentRegistry(database).uploads()] == ["my-upload"]
    with pytest.raises(TargetNotEmpty):
        import_sqlite_dir(data_dir, database)  # once only: a second run would double the history
