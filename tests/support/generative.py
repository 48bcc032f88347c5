"""An answering service in `openai` mode against the fake OpenAI-compatible server (the channels' tests of the
extract-then-lead delivery share it)."""

from __future__ import annotations

from pathlib import Path

from bot.answerers.generative import GenerativeAnswerer, openai_chat_model
from bot.config import Settings
from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from retrieval.library import PolicyLibrary
from tests.support.fake_openai import FakeOpenAI

QUESTION = "淄博计划的保障措施有哪些？"
LEAD = "保障措施共有三项，分别是加强组织领导、强化要素支持和培育产业生态[1][3][5]。"


def openai_service(library: PolicyLibrary, fake: FakeOpenAI, sessions: Path) -> AssistantService:
    """`openai` as the default mode, the model at `fake` (its lead streams `fake.piece_delay` apart)."""
    settings = Settings(llm_base_url=fake.base_url, llm_model="fake-qwen", llm_timeout=5.0)
    return AssistantService(
        library,
        SqlSessionStore(sessions),
        default_mode="openai",
        generators={"openai": GenerativeAnswerer("openai", openai_chat_model(settings))},
    )
