"""A count asked with 几 and a measure word ("要建几个数据中心") must be given in the clause that names what is
counted, as for "多少"; and a figure asked for one place is not given by another place's document, even when the
library holds a document of the place asked about (a province's total is no city's share). A library of a
province and one of its cities, written here, not the shipped corpus."""

from __future__ import annotations

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import JIANGSU_PLAN_NOTICE, SUZHOU_PLAN_NOTICE, service_over

PROVINCE_PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、主要目标
到2026年，全省累计建成5G基站30万个，新建公共充电桩10万个。
二、重点任务
(一)优化算力布局。统筹建设数据中心，推动算力资源跨区域调度。
"""
)
CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、发展目标
到2026年，全市累计建成5G基站6.5万个，建成智慧园区示范项目12个。
二、重点任务
(一)建设算力设施。建设一批绿色数据中心，打造城市算力调度平台。
(二)发展智能交通。推进车路协同试点，完善公共充电设施布局。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(
        tmp_path_factory.mktemp("counts"),
        {"province-plan.txt": PROVINCE_PLAN, "city-plan.txt": CITY_PLAN},
        e5,
    )


@pytest.mark.parametrize("question", ["苏州计划要建几个数据中心？", "苏州打算建设几座绿色数据中心？"])
def test_a_count_asked_with_ji_that_the_clause_naming_it_does_not_give_is_refused(
    service: AssistantService, question: str
) -> None:
    answer = refused(service, question)
    assert "数据中心" in (answer.refusal_reason or "")


@pytest.mark.parametrize(
    ("question", "figure"),
    [("苏州计划要建几个智慧园区示范项目？", "12个"), ("苏州到2026年要建成几个5G基站？", "6.5万个")],
)
def test_a_count_asked_with_ji_that_the_clause_gives_is_answered(
    service: AssistantService, question: str, figure: str
) -> None:
    answered(service, question, figure)


def test_which_ones_is_still_a_list_question(service: AssistantService) -> None:
    # 哪几个 asks which, not how many: the enumeration answers it, though no clause gives a count
    answered(service, "苏州计划的重点任务有哪几个？", "建设算力设施", "发展智能交通")


@pytest.mark.parametrize(
    "question",
    ["江苏要新建的10万个公共充电桩，分给苏州多少个？", "全省新建的10万个公共充电桩里，苏州占多少个？"],
)
def test_a_provinces_total_is_no_figure_for_a_city(service: AssistantService, question: str) -> None:
    answer = refused(service, question)
    assert "10万" not in answer.answer


@pytest.mark.parametrize(
    ("question", "figure"),
    [("江苏全省要新建多少个公共充电桩？", "10万个"), ("苏州到2026年要建成多少个5G基站？", "6.5万个")],
)
def test_a_figure_from_the_places_own_document_is_answered(
    service: AssistantService, question: str, figure: str
) -> None:
    answered(service, question, figure)
