"""Names of documents in a question ("省指导意见", "苏州的计划") resolved against the library's own titles, places
and levels; two names side by side are answered document by document. A library of another province (two
provincial documents and a city plan, written here), so that nothing depends on the shipped corpus."""

from __future__ import annotations

import pytest

from bot.attribution import coordinated, designated_documents, named_document_groups, question_of_group
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from retrieval.normalize import compact
from tests.support.libraries import JIANGSU_PLAN_NOTICE, SUZHOU_PLAN_NOTICE, service_over

PROVINCE_PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、行动目标
到2026年，全省建成5G基站30万个，数据中心机架规模达到60万架。
二、重点行动
(一)布局算力枢纽。支持南京建设算力枢纽节点，打造长三角算力调度中心。
"""
)
PROVINCE_OPINIONS = """江苏省人民政府办公厅关于加快数字基础设施建设的指导意见
苏政办发〔2023〕31号
各设区市人民政府，省各委办厅局：
为加快全省数字基础设施建设，经省人民政府同意，提出如下意见。
一、总体目标
到2025年，全省新建5G基站8万个，千兆光网覆盖所有乡镇。
二、主要任务
(一)提升骨干网络能力。支持无锡建设国家级互联网骨干直联点。
"""
CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、发展目标
到2026年，全市累计建成5G基站6.5万个，建成算力中心3个。
二、重点任务
(一)对接省级枢纽。主动承接南京算力枢纽外溢需求，与无锡共建算力调度平台。
"""
)
PLAN, OPINIONS, CITY = "province-plan", "province-opinions", "city-plan"


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(
        tmp_path_factory.mktemp("designations"),
        {
            "province-plan.txt": PROVINCE_PLAN,
            "province-opinions.txt": PROVINCE_OPINIONS,
            "city-plan.txt": CITY_PLAN,
        },
        e5,
    )


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("省指导意见里5G基站的目标是多少？", [{OPINIONS}]),
        ("省里的新基建行动方案提了什么目标？", [{PLAN}]),
        ("江苏那份数字基础设施意见怎么说？", [{OPINIONS}]),
        ("苏州的计划和省方案有什么不同？", [{CITY}, {PLAN}]),
        ("南京在省指导意见和苏州行动计划里分别是什么角色？", [{OPINIONS}, {CITY}]),
        ("用什么方法推进算力枢纽建设？", []),  # a 方法 is not a 法: no document named
    ],
)
def test_names_resolve_to_the_documents_they_mean(
    service: AssistantService, question: str, names: list[set[str]]
) -> None:
    found = designated_documents(question, service.library.live.current())
    assert [set(n.documents) for n in found] == names


@pytest.mark.parametrize(
    ("question", "groups", "side_by_side"),
    [
        ("省指导意见和省行动方案的5G基站目标分别是多少？", [{OPINIONS}, {PLAN}], True),
        ("省指导意见里的5G目标，与省行动方案里的，分别是多少？", [{OPINIONS}, {PLAN}], False),  # 分别 asks
        ("省行动方案和苏州计划都对5G基站提了什么目标？", [{PLAN}, {CITY}], True),  # side by side, no 分别
        ("苏州计划对省方案的落实情况怎样？", [], False),  # two names, but one is what the other is about
        ("省行动方案的5G基站目标是多少？", [], False),
    ],
)
def test_names_side_by_side_are_asked_of_each(
    service: AssistantService, question: str, groups: list[set[str]], side_by_side: bool
) -> None:
    snapshot = service.library.live.current()
    assert [
        set(g) for g in named_document_groups(question, designated_documents(question, snapshot))
    ] == groups
    assert coordinated(question, designated_documents(question, snapshot)) is side_by_side


def test_each_document_is_asked_without_the_others_names(service: AssistantService) -> None:
    snapshot = service.library.live.current()
    question = "省指导意见和苏州行动计划对无锡分别有什么安排？"
    names = designated_documents(question, snapshot)
    assert question_of_group(question, frozenset({OPINIONS}), names) == "省指导意见和对无锡分别有什么安排？"
    assert question_of_group(question, frozenset({CITY}), names) == "和苏州行动计划对无锡分别有什么安排？"


def test_a_place_named_elsewhere_does_not_empty_a_named_document(service: AssistantService) -> None:
    # 苏州 is the city plan's place: it must not take the provincial documents named out of their answers
    answer = service.ask("苏州周边的无锡和南京，在省指导意见和省行动方案里分别有什么安排？")
    assert {c.doc_id for c in answer.citations} == {PLAN}, answer.answer
    assert "南京" in answer.answer
    assert "没有检索到相关条文" not in answer.answer  # the guiding opinions were searched, not emptied


def test_each_document_is_asked_its_own_clause(service: AssistantService) -> None:
    snapshot = service.library.live.current()
    question = "省指导意见里2025年的5G基站目标，和省行动方案到2026年的5G基站目标，分别是多少？"
    names = designated_documents(question, snapshot)
    # the other document's clause holds its year: asked of this one, that year would be a year it does not give
    assert question_of_group(question, frozenset({OPINIONS}), names) == compact(
        "省指导意见里2025年的5G基站目标，分别是多少？"
    )
    assert question_of_group(question, frozenset({PLAN}), names) == compact(
        "和省行动方案到2026年的5G基站目标，分别是多少？"
    )
    answer = service.ask(question)
    assert not answer.refused, answer.answer
    assert "8万个" in answer.answer
    assert "30万个" in answer.answer


def test_a_comparison_asked_of_one_document_no_longer_asks_for_a_list(service: AssistantService) -> None:
    # "分别" asks each document in turn; asked of one of them, the question is no list question
    groups = service.chain._document_groups("省指导意见和苏州行动计划对无锡分别有什么安排？")
    assert len(groups) == 2
    assert all("分别" not in asked for _, asked in groups)
