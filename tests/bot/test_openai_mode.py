"""The `openai` answer mode end to end against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answerers.generative import GenerativeAnswerer, openai_chat_model
from bot.config import Settings
from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from retrieval.library import PolicyLibrary
from tests.support.fake_openai import FakeOpenAI

QUESTION = "山东省方案要求到2022年建成多少5G基站？"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def service(built_library: PolicyLibrary, fake: FakeOpenAI, tmp_path: Path) -> AssistantService:
    settings = Settings(llm_base_url=fake.base_url, llm_model="fake-qwen", llm_timeout=2.0)
    generator = GenerativeAnswerer("openai", openai_chat_model(settings), 1200)
    return AssistantService(
        built_library,
        SqlSessionStore(tmp_path / "s.db"),
        default_mode="openai",
        generators={"openai": generator},
    )


def _first_passage_number(fake: FakeOpenAI) -> int:
    """Which [n] in the prompt holds the Shandong 5G passage."""
    prompt = fake.requests[-1]["body"]["messages"][-1]["content"]
    starts = list(re.finditer(r"^\[(\d+)\] ", prompt, re.M))
    for here, following in zip(starts, [*starts[1:], None], strict=True):
        block = prompt[here.start() : following.start() if following else len(prompt)]
        if "11.2" in block:
            return int(here.group(1))
    raise AssertionError("passage not in prompt")


def test_verified_answer_is_returned_with_its_citations(service: AssistantService, fake: FakeOpenAI) -> None:
    fake.replies = ["PLACEHOLDER"]
    # first call to learn the numbering, then answer correctly
    service.ask(QUESTION)
    n = _first_passage_number(fake)
    fake.replies = [f"山东省方案提出到2022年建成5G基站11.2万个[{n}]。"]
    answer = service.ask(QUESTION)
    assert answer.mode == "openai" and not answer.refused
    assert answer.answer.startswith("山东省方案")
    assert [c.n for c in answer.citations] == [n]
    assert "11.2" in answer.citations[0].quote or "11.2萬" in answer.citations[0].quote
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0
    assert "[1]" in fake.requests[-1]["body"]["messages"][-1]["content"]


def test_invented_number_falls_back_to_extractive(service: AssistantService, fake: FakeOpenAI) -> None:
    fake.replies = ["到2022年建成5G基站20万个[1]。"]
    answer = service.ask(QUESTION)
    assert any("未通过核验" in n for n in answer.notices)
    assert "20万" not in answer.answer and "11.2" in answer.answer


def test_bad_citation_falls_back(service: AssistantService, fake: FakeOpenAI) -> None:
    fake.replies = ["到2022年建成5G基站11.2万个[9]。"]
    answer = service.ask(QUESTION)
    assert any("未通过核验" in n for n in answer.notices)


@pytest.mark.parametrize("behaviour", ["!500", "!garbage", "!sleep:4"])
def test_endpoint_failures_fall_back_within_the_timeout(
    service: AssistantService, fake: FakeOpenAI, behaviour: str
) -> None:
    fake.replies = [behaviour]
    answer = service.ask(QUESTION)
    assert "11.2" in answer.answer
    assert any("模型服务不可用" in n for n in answer.notices)
    assert answer.timings_ms["llm"] < 3500  # the 2 s timeout held (the fake sleeps 4 s)


def test_model_refusal_after_a_relevant_gate_falls_back_to_the_extract(
    service: AssistantService, fake: FakeOpenAI
) -> None:
    fake.replies = ["根据现有政策文件，无法回答该问题。"]
    answer = service.ask(QUESTION)
    assert not answer.refused and "11.2" in answer.answer
    assert any("未作答" in n for n in answer.notices)


def test_out_of_scope_is_refused_without_calling_the_model(
    service: AssistantService, fake: FakeOpenAI
) -> None:
    answer = service.ask("红烧肉怎么做比较好吃？")
    assert answer.refused and fake.requests == []


def test_streaming_delivers_tokens_then_citations(service: AssistantService, fake: FakeOpenAI) -> None:
    service.ask(QUESTION)
    n = _first_passage_number(fake)
    fake.replies = [f"到2022年建成5G基站11.2万个[{n}]。"]
    events = list(service.stream(QUESTION))
    pieces = [e for e in events if isinstance(e, str)]
    assert len(pieces) > 3 and "".join(pieces) == events[-1].answer  # type: ignore[union-attr]
    assert events[-1].citations  # type: ignore[union-attr]
