"""Generative modes on the chat channels: the verbatim extract goes out at once; the model's verified lead
follows (edited into the Telegram message; a second message on WeCom/DingTalk, whose messages cannot be
edited). The real service over the real corpus, a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.conversation import Access, AnswerLog, Incoming, Outgoing, RateLimiter, TextConversation
from bot.channels.rendering import MarkdownMarkup, paginate
from bot.service import AssistantService
from bot.storage.feedback import FeedbackStore
from bot.storage.sessions import SqlSessionStore
from retrieval.library import PolicyLibrary
from tests.support.fake_openai import FakeOpenAI
from tests.support.generative import LEAD, QUESTION, openai_service


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.piece_delay = 0.05  # the lead takes ~0.8 s to stream
        yield server


@pytest.fixture
def service(built_library: PolicyLibrary, fake: FakeOpenAI, tmp_path: Path) -> AssistantService:
    return openai_service(built_library, fake, tmp_path / "s.db")


def _conversation(service: AssistantService, tmp_path: Path) -> TextConversation:
    return TextConversation(
        service,
        AnswerLog(FeedbackStore(tmp_path / "feedback.sqlite3")),
        channel="wecom",
        access=Access(),
        rate=RateLimiter(0),
        group_hint="",
    )


def _text(outgoing: Outgoing) -> str:
    return "\n".join(paginate(outgoing.paragraphs, 4000, MarkdownMarkup()))


def _reply(conversation: TextConversation) -> tuple[list[tuple[float, Outgoing]], Outgoing | None, float]:
    early: list[tuple[float, Outgoing]] = []

    async def send(outgoing: Outgoing) -> None:
        early.append((time.perf_counter(), outgoing))

    async def main() -> Outgoing | None:
        return await conversation.reply(Incoming("u1", "u1", QUESTION), send)

    reply = asyncio.run(main())
    return early, reply, time.perf_counter()


def test_text_channel_sends_the_extract_at_once_then_the_lead(
    service: AssistantService, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.replies = [LEAD]
    early, reply, finished = _reply(_conversation(service, tmp_path))
    assert len(early) == 1
    sent_at, extract = early[0]
    assert finished - sent_at > 0.5  # out while the model was still writing its lead
    text = _text(extract)
    assert "依据《" in text and "加强组织领导" in text and "来源" in text and "保障措施共有三项" not in text
    assert reply is not None and reply.answer is not None and reply.answer.lead == LEAD
    follow_up = _text(reply)
    assert follow_up.startswith("**概括") and "保障措施共有三项" in follow_up and "依据《" not in follow_up


def test_text_channel_lead_that_fails_verification_is_not_sent(
    service: AssistantService, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.replies = ["保障措施共有9项[1]。"]  # a number the evidence does not have
    early, reply, _ = _reply(_conversation(service, tmp_path))
    assert len(early) == 1 and "依据《" in _text(early[0][1])
    assert reply is not None and reply.answer is not None and reply.answer.lead == ""
    assert "概括（编号" not in _text(reply) and "9项" not in _text(reply)  # only the notices follow
    assert "未通过核验（与所引原文不符）" in _text(reply)


def test_extractive_mode_sends_one_whole_answer(
    built_library: PolicyLibrary, fake: FakeOpenAI, tmp_path: Path
) -> None:
    service = AssistantService(built_library, SqlSessionStore(tmp_path / "s.db"))
    early, reply, _ = _reply(_conversation(service, tmp_path))
    assert early == [] and reply is not None and "依据《" in _text(reply) and fake.requests == []
