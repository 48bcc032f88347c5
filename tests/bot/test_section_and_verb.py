"""A question that names a section and asks, besides, only a verb the section does not write ("…行动目标要在哪一年
完成？") is about that section: answered from it, when it gives what is asked (a year). A library of another city
(written here)."""

from __future__ import annotations

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import SUZHOU_PLAN_NOTICE, service_over

CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、行动目标
到2026年，基本建成泛在互联、智能融合的新型基础设施体系，全市累计建成5G基站6.5万个。
二、重点任务
(一)开展智慧园区示范。每年遴选一批智慧园区示范项目，由市工业和信息化局组织申报和评审。
(二)建设公共平台。建设城市算力调度平台，推动公共数据开放共享。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("section-verb"), {"city-plan.txt": CITY_PLAN}, e5)


@pytest.mark.parametrize(
    "question",
    [
        "苏州计划的行动目标要在哪一年完成？",
        "苏州计划的行动目标哪年能完成啊？",
        "蘇州計劃的行動目標要在哪一年完成？",
    ],
)
def test_a_section_named_with_a_verb_it_does_not_write_is_answered_from_it(
    service: AssistantService, question: str
) -> None:
    answered(service, question, "2026")


def test_a_noun_the_section_does_not_write_is_not_such_a_verb(service: AssistantService) -> None:
    # the rule must not reach this far: 幼儿园 is what the question is about, and the section never writes it
    refused(service, "苏州计划的行动目标里对幼儿园有什么要求？")
