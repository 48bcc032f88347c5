"""A figure asked for a year is answered from the retrieved passage whose sentence gives a figure for that year,
when the best-matching sentences speak of another year ("2024年要建成多少5G基站" against a 2026 total and a 2024
figure in another section). A library of another city (written here)."""

from __future__ import annotations

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import SUZHOU_PLAN_NOTICE, service_over

CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、发展目标
到2026年，全市累计建成5G基站6.5万个，5G网络覆盖全部行政村。
二、重点任务
1.加快5G网络部署。2024年新开通5G基站1.2万个，优先覆盖产业园区和交通枢纽。(责任单位：市工业和信息化局)
2.推进城市算力建设。建设城市算力调度平台，推动公共数据开放共享。(责任单位：市大数据局)
3.建设智能充电网络。优化充电桩布局，推动充电设施与停车场一体化建设。(责任单位：市发展改革委)
4.发展工业互联网。培育工业互联网平台，推动规模以上工业企业上云。(责任单位：市工业和信息化局)
5.完善城市感知设施。布设城市运行感知节点，提升城市治理智能化水平。(责任单位：市城市管理局)
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("year-figures"), {"city-plan.txt": CITY_PLAN}, e5)


@pytest.mark.parametrize(
    "question",
    [
        "苏州计划2024年要建成多少5G基站？",
        "2024年的时候苏州要建多少个5G基站？",
        "How many 5G base stations is Suzhou to build in 2024?",
    ],
)
def test_the_figure_for_the_year_asked(service: AssistantService, question: str) -> None:
    answered(service, question, "1.2万")


@pytest.mark.parametrize("question", ["苏州计划2025年要建成多少5G基站？", "2025年苏州要建多少个充电站？"])
def test_a_year_no_sentence_gives_a_figure_for_is_still_refused(
    service: AssistantService, question: str
) -> None:
    refused(service, question)
