""" "…的第N项是什么" is answered with the N-th item of the section the question names, counted among that
section's own items; a section with fewer items refuses, even when a section under it has more. A library of
another city (written here), not the shipped corpus."""

from __future__ import annotations

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import SUZHOU_PLAN_NOTICE, service_over

# 主要任务 has one item of its own, (一); the numbered items 1.–3. are under that one
CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、发展目标
到2026年，全市累计建成5G基站6.5万个。
二、主要任务
(一)建设泛在连接的信息网络。
1.加快5G网络建设。推进5G网络深度覆盖，建成5G基站6.5万个。
2.建设千兆光网。推动千兆光网进小区、进楼宇。
3.布局算力设施。建设市级算力调度平台。
三、保障措施
(一)加强组织领导。建立市级工作专班。
(二)强化要素保障。优先保障新基建项目用地。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("numbered"), {"city-plan.txt": CITY_PLAN}, e5)


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("苏州计划保障措施的第二项是什么？", "强化要素保障"),
        ("苏州计划主要任务的第（一）项是什么？", "建设泛在连接的信息网络"),
    ],
)
def test_the_named_section_s_item(service: AssistantService, question: str, fact: str) -> None:
    answered(service, question, fact)


@pytest.mark.parametrize(
    "question",
    [
        "苏州计划主要任务的第（二）项是什么？",  # 主要任务 has one item; 2.建设千兆光网 is an item of (一)
        "苏州计划保障措施的第三项是什么？",
    ],
)
def test_an_item_the_section_does_not_have_is_refused(service: AssistantService, question: str) -> None:
    answer = refused(service, question)
    assert "千兆光网" not in answer.answer
    assert "只有" in (answer.refusal_reason or "")
