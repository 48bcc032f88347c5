"""Telegram allowlist for button presses (callback queries): an outsider's 👍/👎, 原文 and example buttons
store nothing, show nothing and ask nothing; they get the one polite refusal. The same buttons work for an
allowed user. (Messages: tests/bot/channels/telegram/test_bot.py::test_unauthorised_user_gets_exactly_one_refusal.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.answer import Answer, Citation
from bot.channels.telegram import handlers, rendering
from tests.bot.channels.telegram.conftest import callback_update, feed, make_settings, text_update
from tests.bot.channels.telegram.fake_bot_api import FakeBotAPI

OUTSIDER = 77
ALLOWED = 1


class _Service:
    """The part of AssistantService the bot uses; records questions."""

    modes = ("extractive",)
    default_mode = "extractive"
    generators: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        self.asked: list[str] = []

    class library:
        @staticmethod
        def documents() -> list[dict[str, str]]:
            return [{"doc_id": "d", "title": "某市三年行动计划"}]

    def ask(self, question: str, session_id: str | None = None, mode: str | None = None) -> Answer:
        self.asked.append(question)
        quote = "注重信息基础设施和融合基础设施的协同。"
        citation = Citation(
            n=1, doc_id="d", title="文件", section_path="一、总则", quote=quote, start=0, end=3
        )
        return Answer(answer_id=f"a{len(self.asked)}", answer="回答[1]", citations=[citation])

    def last_answer(self, session_id: str) -> None:
        return None

    def reset(self, session_id: str) -> None:
        pass


@pytest.fixture(scope="module")
def bot_api() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI().start()
    yield server
    server.stop()


def _feedback_rows(data_dir: Path) -> list[tuple]:
    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        return db.execute("SELECT answer_id, rating, source FROM feedback").fetchall()


def test_telegram_outsider_button_presses_are_refused(bot_api: FakeBotAPI, tmp_path: Path) -> None:
    bot_api.clear()
    service = _Service()
    settings = make_settings(tmp_path, bot_api, telegram_allowed_user_ids=f"{ALLOWED},2")
    # an allowed user gets an answer (answer id a1, source 1) ...
    feed(
        service, settings, [text_update("淄博新基建计划的基本原则有哪些？", chat_id=ALLOWED, user_id=ALLOWED)]
    )
    assert service.asked == ["淄博新基建计划的基本原则有哪些？"]
    bot_api.clear()

    # ... an outsider presses every kind of button on it
    presses = ["fb:a1:down", "src:a1:1", "ex:0", "fb:a1:up"]
    feed(service, settings, [callback_update(data, chat_id=OUTSIDER, user_id=OUTSIDER) for data in presses])
    assert bot_api.sent_texts() == [handlers.REFUSAL]  # exactly one refusal, no quote, no answer
    assert service.asked == ["淄博新基建计划的基本原则有哪些？"]
    assert _feedback_rows(tmp_path) == []
    acknowledged = bot_api.calls_to("answerCallbackQuery")
    assert len(acknowledged) <= 1 and not any(c.params.get("text") for c in acknowledged)

    # the same buttons work for an allowed user
    bot_api.clear()
    feed(service, settings, [callback_update("fb:a1:down", chat_id=ALLOWED, user_id=ALLOWED)])
    assert _feedback_rows(tmp_path) == [("a1", "down", f"telegram:{ALLOWED}:{ALLOWED}")]
    feed(service, settings, [callback_update("ex:0", chat_id=ALLOWED, user_id=ALLOWED)])
    assert service.asked[-1] == rendering.example_questions(service.library.documents())[0]
