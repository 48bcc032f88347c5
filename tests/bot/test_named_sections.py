"""A question that names a section of a document ("…“布局算力枢纽”这一条…") is answered from that section only:
another section's sentence that happens to hold the kind of fact asked (a responsibility note, a number) is no
answer, and a section whose text the library does not hold is refused. The library is written here (another
province, plain text, no front matter)."""

from __future__ import annotations

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import JIANGSU_PLAN_NOTICE, service_over

PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、行动目标
到2026年，全省建成5G基站30万个，数据中心机架规模达到60万架。
二、重点行动
1.推进5G规模化应用。
支持各设区市建设5G行业虚拟专网，到2026年建成5G工厂300个。(责任单位：省工业和信息化厅、省通信管理局)
2.布局算力枢纽。
支持南京、无锡建设算力枢纽节点，推动算力资源统筹调度。
3.建设充电设施。
"""
)


@pytest.fixture(scope="module")
def plan_service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("named-sections"), {"province-plan.txt": PLAN}, e5)


@pytest.mark.parametrize(
    "question",
    [
        "江苏方案里“布局算力枢纽”这一条的责任单位是哪些？",
        "布局算力枢纽这项任务由哪个部门负责？",
    ],
)
def test_another_section_s_fact_of_the_kind_asked_is_no_answer(
    plan_service: AssistantService, question: str
) -> None:
    # the only responsibility note is under 推进5G规模化应用
    answer = refused(plan_service, question)
    assert "信息化厅" not in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "江苏方案“布局算力枢纽”支持哪些城市建设枢纽节点？",
        "在布局算力枢纽方面，省里支持哪里建节点？",
    ],
)
def test_the_named_section_answers(plan_service: AssistantService, question: str) -> None:
    answered(plan_service, question, "南京")


def test_the_named_section_s_number_not_another_s(plan_service: AssistantService) -> None:
    # 300 (5G工厂) is a number of the kind asked, but of another section
    answer = refused(plan_service, "“布局算力枢纽”一条要求到2026年建成多少个节点？")
    assert "300" not in answer.answer


def test_a_section_with_no_text_in_the_library_is_refused(plan_service: AssistantService) -> None:
    # the heading is all the library holds of it: its neighbours' sentences are no answer
    answer = refused(plan_service, "江苏方案中“建设充电设施”这一条有什么具体要求？")
    assert "南京" not in answer.answer and "5G" not in answer.answer


def test_a_named_section_without_the_fact_is_refused_on_the_shipped_corpus(service: AssistantService) -> None:
    # the excerpt gives 加快5G商用 a responsibility note and 优化布局数据中心 none: the note of the first is no answer
    answer = refused(service, "省新基建方案里“优化布局数据中心”这一条的责任单位是哪几个？")
    assert "發展改革委" not in answer.answer
    answered(service, "山东方案“优化布局数据中心”对PUE有什么要求？", "1.25")
    answered(service, "在加快5G商用方面，山东的责任单位有哪些？", "省通信管理局")


def test_the_deepest_named_section_is_the_one() -> None:
    from bot.answerers.extractive import _named_sections

    class _Chunk:
        def __init__(self, parts: tuple[str, ...]) -> None:
            self.doc_id, self.title, self.section_parts = "plan", "江苏省新型基础设施建设行动方案", parts

    class _Passage:
        def __init__(self, chunk: _Chunk) -> None:
            self.chunk = chunk

    chunks = [
        _Chunk(("二、重点行动", "(二)布局算力枢纽。")),
        _Chunk(("二、重点行动", "(一)推进5G规模化应用。")),
    ]

    class _Snapshot:
        def chunks_of(self, doc_id: str) -> list[_Chunk]:
            return chunks

    found = _named_sections("重点行动里布局算力枢纽怎么安排？", [_Passage(c) for c in chunks], _Snapshot())  # type: ignore[arg-type]
    assert found == [("plan", ("二、重点行动", "(二)布局算力枢纽。"))]
    # a short name (目标) or the words naming the document are not a section's name
    assert (
        _named_sections("江苏新型基础设施建设行动方案的目标", [_Passage(c) for c in chunks], _Snapshot())
        == []
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ["江苏方案 重点行动", "江苏新基建方案　重点行动"])
def test_a_query_of_bare_words_that_names_a_section_lists_it(
    plan_service: AssistantService, query: str
) -> None:
    # no question word: naming the section asks for it, item by item, as "重点行动有哪些？" does
    answer = answered(plan_service, query, "推进5G规模化应用")
    assert "布局算力枢纽" in answer.answer
    assert "建设充电设施" in answer.answer


@pytest.mark.parametrize(
    "question",
    ["江苏方案的行动目标是什么？", "江苏方案行动目标要求在哪一年前建成？", "江苏新基建方案的行动目标讲了啥"],
)
def test_a_question_that_names_a_section_and_asks_nothing_else_is_answered_from_it(
    plan_service: AssistantService, question: str
) -> None:
    # the section's name is the question's only content: the gate, weighing content words, saw none to match
    answered(plan_service, question, "30万")


@pytest.mark.parametrize(
    "question", ["江苏方案的行动目标对护照办理有什么要求？", "江苏方案行动目标里的养老金标准是多少？"]
)
def test_a_named_section_does_not_answer_what_it_does_not_write(
    plan_service: AssistantService, question: str
) -> None:
    refused(plan_service, question)
