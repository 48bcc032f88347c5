"""Telegram in a generative mode: the extract is sent at once, then edited into the final answer (the model's
verified lead above it, the buttons below). Real service, real PTB Application, fake Bot API and a real
OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.service import AssistantService
from retrieval.library import PolicyLibrary
from tests.bot.channels.telegram.conftest import feed, make_settings, text_update
from tests.bot.channels.telegram.fake_bot_api import FakeBotAPI
from tests.bot.channels.telegram.test_bot import buttons
from tests.support.fake_openai import FakeOpenAI
from tests.support.generative import LEAD, QUESTION, openai_service


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.piece_delay = 0.05
        yield server


@pytest.fixture
def service(built_library: PolicyLibrary, fake: FakeOpenAI, tmp_path: Path) -> AssistantService:
    return openai_service(built_library, fake, tmp_path / "s.db")


def test_telegram_edits_the_lead_into_the_extract_message(
    api: FakeBotAPI, service: AssistantService, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.replies = [LEAD]
    feed(service, make_settings(tmp_path, api), [text_update(QUESTION)])
    sent, edited = api.calls_to("sendMessage"), api.calls_to("editMessageText")
    assert len(sent) == 1 and len(edited) == 1
    assert "依据《" in sent[0].params["text"] and "保障措施共有三项" not in sent[0].params["text"]
    assert not buttons(sent[0])  # no buttons until the answer is final
    final = edited[0].params["text"]
    assert final.startswith("保障措施共有三项") and "依据《" in final
    labels = [label for label, _ in buttons(edited[0])]
    assert "原文 1" in labels and "👍" in labels


def test_telegram_keeps_the_extract_when_the_model_fails(
    api: FakeBotAPI, service: AssistantService, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.replies = ["!500"]
    feed(service, make_settings(tmp_path, api), [text_update(QUESTION)])
    sent, edited = api.calls_to("sendMessage"), api.calls_to("editMessageText")
    assert len(sent) == 1 and len(edited) == 1  # the notice and the buttons are added; the extract stays
    assert edited[0].params["text"].startswith("依据《") and "模型服务不可用" in edited[0].params["text"]
