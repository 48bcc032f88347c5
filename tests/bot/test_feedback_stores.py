"""The API and the Telegram bot write feedback into the same file: either may create the table first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.api.feedback_store import FeedbackStore as ApiFeedbackStore
from bot.telegram.feedback import FeedbackStore as TelegramFeedbackStore


@pytest.mark.parametrize("first", ["api", "telegram"])
def test_both_surfaces_store_feedback_in_one_table(tmp_path: Path, first: str) -> None:
    path = tmp_path / "feedback.sqlite3"
    if first == "api":
        api, telegram = ApiFeedbackStore(path), TelegramFeedbackStore(path)
    else:
        telegram, api = TelegramFeedbackStore(path), ApiFeedbackStore(path)
    api.add_feedback("a1", "up", "好")
    telegram.record("a2", "down")
    rows = (
        sqlite3.connect(path).execute("SELECT answer_id, rating FROM feedback ORDER BY answer_id").fetchall()
    )
    assert rows == [("a1", "up"), ("a2", "down")]


def test_a_telegram_comment_is_stored_when_the_api_created_the_table(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    ApiFeedbackStore(path)
    TelegramFeedbackStore(path).record("chat:1", "comment", "答案不完整")
    rows = sqlite3.connect(path).execute("SELECT rating, comment FROM feedback").fetchall()
    assert rows == [("comment", "答案不完整")]
