"""Worker processes starting together all open the same new databases: none may fail with "locked"."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from bot.feedback_store import FeedbackStore
from bot.sessions import SQLiteSessionStore


def _open_both(directory: str, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    SQLiteSessionStore(Path(directory) / "sessions.sqlite3")
    FeedbackStore(Path(directory) / "feedback.sqlite3").close()


def test_processes_creating_the_stores_together(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(10):
        directory = tmp_path / str(attempt)
        start = context.Event()
        workers = [context.Process(target=_open_both, args=(str(directory), start)) for _ in range(6)]
        for worker in workers:
            worker.start()
        start.set()
        for worker in workers:
            worker.join(60)
        assert [w.exitcode for w in workers] == [0] * len(workers), f"attempt {attempt}"
        store = SQLiteSessionStore(directory / "sessions.sqlite3")
        assert store._connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
