"""A document field asked without naming a document ("什么时候开始施行？") after a question about one asks the
field of that document, in a message of two questions as in a conversation. A library of another province and
city (written here), in which the other document's text writes the verb the question uses (贯彻执行)."""

from __future__ import annotations

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered
from tests.support.libraries import JIANGSU_PLAN_NOTICE, SUZHOU_PLAN_NOTICE, service_over

PROVINCE_PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、总体要求
各地各部门要结合实际认真贯彻执行，自本方案印发之日起开始执行。
二、重点任务
(一)建设算力网络。到2026年，全省新建数据中心机架5万个。
"""
)
CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、发展目标
到2026年，全市累计建成5G基站6.5万个。
二、重点任务
(一)开展智慧园区示范。每年遴选一批智慧园区示范项目。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(
        tmp_path_factory.mktemp("field-follow-ups"),
        {"province.txt": PROVINCE_PLAN, "city.txt": CITY_PLAN},
        e5,
    )


@pytest.mark.parametrize("when", ["什么时候开始执行的？", "啥时候开始施行？", "哪天起实施？"])
def test_the_second_question_of_a_message_asks_the_field_of_the_first_ones_document(
    service: AssistantService, when: str
) -> None:
    answer = answered(service, f"苏州那个新基建计划是谁发的？{when}", "苏州市人民政府办公室", "2024年2月1日")
    assert "2024年1月10日" not in answer.answer  # the province's plan is not the one asked about
    assert {c.doc_id for c in answer.citations} == {"city"}


def test_a_follow_up_turn_asks_the_field_of_the_previous_turns_document(service: AssistantService) -> None:
    session = "field-follow-up"
    service.ask("苏州的新基建计划是哪个部门印发的？", session_id=session)
    answer = service.ask("什么时候开始执行的？", session_id=session)
    assert not answer.refused, answer.answer
    assert "2024年2月1日" in answer.answer and "2024年1月10日" not in answer.answer
