"""A year or a 文号 is not the number a quantity question asks for: "要改造多少座泵站" is not answered by a sentence
whose only figures are "2025年" or the document's "苏政发〔2024〕15号" (the figure the library lacks is refused),
while a question that asks a quantity in years is answered by its year range. A library of another province
(written here)."""

from __future__ import annotations

import pytest

from bot.answerers.extractive import _figures_text, _gives_figure
from bot.evidence import units_of
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.chunks import chunk
from tests.support.libraries import JIANGSU_PLAN_NOTICE, service_over

PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、发展目标
到2026年，全省新型基础设施建设水平位居全国前列。
二、重点任务
1.改造城市排水设施。2025年前完成全省主城区智慧泵站改造，实现泵站运行状态在线监测。(责任单位：省住房城乡建设厅)
2.建设智能充电网络。到2026年，全省建成公共充电桩20万个。(责任单位：省发展改革委)
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("years-no-counts"), {"province-plan.txt": PLAN}, e5)


@pytest.mark.parametrize(
    "question",
    [
        "江苏方案要改造多少座智慧泵站？",  # the sentence naming them gives only "2025年前"
        "江苏新基建行动方案印发后要建多少个创新平台？",  # the notice, with "(2024-2026年)", is no answer
        "江苏省人民政府印发的新型基础设施建设行动方案，要培育多少家龙头企业？",
        "江苏省新型基础设施建设行动方案印发以后，创新平台的数量是多少？",
    ],
)
def test_a_year_is_not_the_count_asked(service: AssistantService, question: str) -> None:
    assert refused(service, question).refusal_reason


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("江苏方案要建成多少个公共充电桩？", "20万"),
        ("江苏方案的实施期是几年？", "2024-2026"),
    ],
)
def test_a_count_given_or_a_period_asked_in_years_is_answered(
    service: AssistantService, question: str, fact: str
) -> None:
    answered(service, question, fact)


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("苏政发〔2024〕15号", False),
        ("鲁政字(2020)228号", False),
        ("江苏省新型基础设施建设行动方案(2024-2026年)", False),
        ("2025年前完成全省主城区智慧泵站改造。", False),
        ("到2026年，全省建成公共充电桩20万个。", True),
        ("新建泵站十二座。", True),
    ],
)
def test_years_and_document_numbers_are_not_figures_of_a_count(text: str, counts: bool) -> None:
    unit = units_of(chunk(text))[0]
    assert _gives_figure(_figures_text(unit, with_years=False)) is counts
