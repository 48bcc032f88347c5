"""Two questions joined by a connective in one sentence ("…是多少，另外…有没有…？") are answered one by one, and a
follow-up that asks with a question word of its own asks for what it asks, not for the previous question's count
or year. A library of another city (written here), not the shipped corpus."""

from __future__ import annotations

import pytest

from bot.compound import question_parts
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.libraries import WUXI_DIGITAL_PLAN, service_over

CITY_PLAN = WUXI_DIGITAL_PLAN


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("connected"), {"city-plan.txt": CITY_PLAN}, e5)


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        (
            "想了解无锡方案到2026年示范园区数量是多少，另外无锡方案里有没有公共平台的安排？",
            ["想了解无锡方案到2026年示范园区数量是多少？", "无锡方案里有没有公共平台的安排？"],
        ),
        (
            "苏州计划要建多少个基站；此外，苏州计划对数据中心提出了什么要求？",
            ["苏州计划要建多少个基站？", "苏州计划对数据中心提出了什么要求？"],
        ),
        (
            "How many parks does the Wuxi plan set, and does the Wuxi plan mention a computing platform?",
            ["How many parks does the Wuxi plan set?", "does the Wuxi plan mention a computing platform?"],
        ),
    ],
)
def test_a_connective_between_two_questions_splits_them(message: str, parts: list[str]) -> None:
    assert question_parts(message) == parts


@pytest.mark.parametrize(
    "message",
    [
        "苏州计划提出了什么目标，同时要求各区配合。",  # the second clause asks nothing
        "苏州计划要建多少个基站，另外那些基站何时建成？",  # the second leans on the first ("那些")
        "Where will the Suzhou port be built, and when is it due to open?",  # "it": the same subject
        "除了资金，还有哪些支持？",
    ],
)
def test_a_clause_that_does_not_stand_alone_stays_with_the_question(message: str) -> None:
    assert question_parts(message) == [message]


def test_each_connected_question_is_answered(service: AssistantService) -> None:
    answer = service.ask("想了解无锡方案到2026年示范园区数量是多少，另外无锡方案里有没有公共平台的安排？")
    assert not answer.refused, answer.answer
    assert "12个物联网示范园区" in answer.answer
    assert "算力调度平台" in answer.answer


def test_a_follow_up_with_its_own_question_word_asks_its_own_question(service: AssistantService) -> None:
    session = "connected-follow-up"
    first = service.ask("无锡方案到2026年要建成多少个物联网示范园区？", session_id=session)
    assert "12个" in first.answer
    # the previous question counted something for 2026; this one asks whether there is an arrangement at all
    follow_up = service.ask("另外有没有建设公共平台的安排？", session_id=session)
    assert not follow_up.refused, follow_up.refusal_reason
    assert "算力调度平台" in follow_up.answer
