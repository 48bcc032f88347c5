"""A short message after an answer is a follow-up only when it leans on that answer: "第二项呢？" does,
"天气怎么样？" does not. Carried into the previous subject, an unrelated short question was answered from that
subject's passages. A library of another city (written here), and the shipped corpus, whose list answer named a
section the carried question matched."""

from __future__ import annotations

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.libraries import WUXI_DIGITAL_PLAN, service_over


@pytest.fixture(scope="module")
def plan_service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("short-messages"), {"wuxi-plan.txt": WUXI_DIGITAL_PLAN}, e5)


@pytest.mark.parametrize("message", ["天气怎么样？", "股票怎么买", "红烧肉咋做"])
def test_an_unrelated_short_question_after_a_list_is_refused(
    plan_service: AssistantService, message: str
) -> None:
    session = f"short-{message}"
    first = plan_service.ask("无锡方案的重点任务有哪些？", session_id=session)
    assert not first.refused, first.answer
    answer = plan_service.ask(message, session_id=session)
    assert answer.refused, answer.answer


def test_a_short_follow_up_still_leans_on_the_answer(plan_service: AssistantService) -> None:
    session = "short-follow-up"
    plan_service.ask("无锡方案的重点任务有哪些？", session_id=session)
    answer = plan_service.ask("第二项呢？", session_id=session)
    assert not answer.refused and "算力调度平台" in answer.answer, answer.answer


@pytest.mark.parametrize("message", ["天气怎么样？", "股票怎么买"])
def test_an_unrelated_short_question_after_a_list_is_refused_on_the_shipped_corpus(
    service: AssistantService, message: str
) -> None:
    session = f"shipped-short-{message}"
    assert not service.ask("淄博计划的基本原则有哪些？", session_id=session).refused
    answer = service.ask(message, session_id=session)
    assert answer.refused, answer.answer
