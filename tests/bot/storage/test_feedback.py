"""Feedback and the answer log on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import update

from bot.answer import Answer
from bot.storage import schema
from bot.storage.database import Database
from bot.storage.feedback import FeedbackStore


def test_add_feedback_returns_the_committed_row(database: Database) -> None:
    store = FeedbackStore(database)
    row = store.add_feedback("a1", "down", "不对")
    assert row["source"] == "api" and row["id"] >= 1 and row["created"]
    other = FeedbackStore(Database(database.url))  # another replica's pool
    assert other.feedback("a1") == [row]
    other.database.dispose()


def test_unknown_rating_is_rejected(database: Database) -> None:
    store = FeedbackStore(database)
    with pytest.raises(ValueError, match="rating"):
        store.add_feedback("a1", "meh")
    assert store.feedback() == []


def test_answer_log_replace_and_prune(database: Database) -> None:
    store = FeedbackStore(database)
    store.log_answer(Answer(answer_id="a1", answer="旧", question="问？"))
    store.log_answer(Answer(answer_id="a1", answer="新", question="问？"))
    assert store.answer("a1")["answer"] == "新" and store.answer("none") is None
    with database.write() as db:
        db.execute(update(schema.answers).values(created="2000-01-01T00:00:00+00:00"))
    assert store.prune(0) == 0 and store.answer("a1") is not None
    assert store.prune(90) == 1 and store.answer("a1") is None


def test_concurrent_writers_from_two_pools(database_url: str) -> None:
    pools = [Database(database_url) for _ in range(2)]
    stores = [FeedbackStore(pool) for pool in pools]
    acknowledged: list[int] = []

    def write(n: int) -> None:
        for i in range(20):
            row = stores[n % 2].add_feedback(f"a{n}-{i}", "up", "", f"telegram:{n}:{n}")
            acknowledged.append(row["id"])
            stores[n % 2].log_answer(Answer(answer_id=f"a{n}-{i}", answer="x", question="q"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = stores[0].feedback()
    assert len(rows) == 80 and sorted(acknowledged) == [r["id"] for r in rows]
    assert all(stores[1].answer(f"a{n}-{i}") for n in range(4) for i in range(20))
    assert dt.datetime.fromisoformat(rows[0]["created"]).tzinfo is not None
    for pool in pools:
        pool.dispose()
