"""Attribution with no knowledge of the library in code: a library of another city and province (plain text, no
front matter, written here) gets its questions answered from the right document."""

from __future__ import annotations

import re

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered
from tests.support.libraries import JIANGSU_PLAN_NOTICE, SUZHOU_PLAN_NOTICE, service_over

CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、发展目标
到2026年，全市累计建成5G基站6.5万个，建成算力中心3个。
二、重点任务
(一)建设城市数据底座。建设全市统一的数据共享交换平台，推动公共数据开放。
"""
)
PROVINCE_PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、行动目标
到2026年，全省建成5G基站30万个，数据中心机架规模达到60万架。
二、重点行动
(一)推进5G规模化应用。支持各设区市建设5G行业虚拟专网。
(二)布局算力枢纽。支持南京、无锡建设算力枢纽节点。
"""
)


@pytest.fixture(scope="module")
def other_service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(
        tmp_path_factory.mktemp("other-library"),
        {"city-plan.txt": CITY_PLAN, "province-plan.txt": PROVINCE_PLAN},
        e5,
    )


def test_documents_read_their_places_and_titles(other_service: AssistantService) -> None:
    listed = {d["doc_id"]: d for d in other_service.library.documents()}
    assert listed["city-plan"]["title"] == "苏州市新型基础设施建设行动计划(2024-2026年)"
    assert listed["city-plan"]["places"] == ["苏州"] and listed["city-plan"]["jurisdiction"] == "city"
    assert (
        listed["province-plan"]["places"] == ["江苏"]
        and listed["province-plan"]["jurisdiction"] == "province"
    )


@pytest.mark.parametrize(
    ("question", "doc_id", "fact"),
    [
        ("苏州计划到2026年要建成多少5G基站？", "city-plan", "6.5万"),
        ("苏州市的5G基站目标是多少个？", "city-plan", "6.5万"),
        ("江苏省方案要建多少5G基站？", "province-plan", "30万"),
        ("全省要建成多少个5G基站？", "province-plan", "30万"),
        ("省里的行动方案对5G基站提了什么目标？", "province-plan", "30万"),
    ],
)
def test_questions_are_answered_from_the_place_they_name(
    other_service: AssistantService, question: str, doc_id: str, fact: str
) -> None:
    answer = other_service.ask(question)
    assert not answer.refused, answer.answer
    assert {c.doc_id for c in answer.citations} == {doc_id}, answer.answer
    assert fact in answer.answer


def test_a_place_the_library_does_not_cover_is_refused(other_service: AssistantService) -> None:
    answer = other_service.ask("深圳市要建成多少5G基站？")
    assert answer.refused
    assert "6.5万" not in answer.answer and "30万" not in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "How many 5G base stations will Shenzhen build?",
        "What is Shenzhen's target for 5G base stations by 2026?",
        "By 2026, how many 5G base stations should Hangzhou have?",
    ],
)
def test_an_english_question_about_a_place_the_library_does_not_cover_is_refused(
    other_service: AssistantService, question: str
) -> None:
    # the place is read by its pinyin ("Shenzhen" → 深圳), not from a list of places in code
    answer = other_service.ask(question)
    assert answer.refused and "本库文件不涉及" in (answer.refusal_reason or "")
    assert "6.5万" not in answer.answer and "30万" not in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "无锡到2026年要建成多少5G基站？",
        "到2026年，无锡市的5G基站要达到多少个？",
        "How many 5G base stations should Wuxi have by 2026?",
    ],
)
def test_a_figure_asked_for_a_place_the_documents_only_mention_is_not_the_province_s(
    other_service: AssistantService, question: str
) -> None:
    # 无锡 is named by the province plan (算力枢纽) but no figure is given for it: the province's 30万 is no answer
    answer = other_service.ask(question)
    assert answer.refused and "30万" not in answer.answer
    assert "具体数字" in (answer.refusal_reason or "")


def test_the_province_s_own_figure_is_still_given(other_service: AssistantService) -> None:
    answer = other_service.ask("全省到2026年要建成多少5G基站？")
    assert not answer.refused and "30万" in answer.answer


def test_an_english_question_about_the_library_s_own_city_is_not_refused_for_its_place(
    other_service: AssistantService,
) -> None:
    answer = other_service.ask("How many 5G base stations will Suzhou build by 2026?")
    assert "本库文件不涉及" not in (answer.refusal_reason or "")


@pytest.mark.parametrize(
    "question",
    [
        "苏州和全省分别要建成多少个5G基站？",
        "关于5G基站，苏州计划和省方案分别定了多少？",
        "5G基站这块，苏州计划跟省里的方案各要求建多少？",
        "How many 5G base stations do the Suzhou plan and the Jiangsu plan each call for?",
        "苏州与江苏省各自的5G基站目标是多少？",
        "5G基站方面，省里和苏州相比各定了多少？",
    ],
)
def test_a_comparison_is_answered_per_document_in_question_order(
    other_service: AssistantService, question: str
) -> None:
    answer = answered(other_service, question, "6.5万", "30万")
    assert {c.doc_id for c in answer.citations} == {"city-plan", "province-plan"}
    _markers_match(answer)


@pytest.mark.parametrize(
    ("question", "facts"),
    [
        ("苏州要建成多少个算力中心？江苏省的数据中心机架规模要达到多少？", ["3个", "60万架"]),
        ("江苏全省要建多少5G基站? 苏州的数据共享交换平台是怎么安排的?", ["30万", "数据共享交换平台"]),
        ("我们是做数据中心的企业。苏州要建成多少个算力中心？那全省的机架规模呢？", ["3个", "60万架"]),
    ],
)
def test_several_questions_in_one_message_are_each_answered(
    other_service: AssistantService, question: str, facts: list[str]
) -> None:
    answer = answered(other_service, question, *facts)
    assert answer.answer.count("【第一问】") == 1 and answer.answer.count("【第二问】") == 1
    _markers_match(answer)


def test_a_part_the_documents_do_not_answer_says_so_beside_the_other(other_service: AssistantService) -> None:
    answer = other_service.ask("苏州要建成多少个算力中心？深圳市要建成多少5G基站？")
    assert not answer.refused
    assert "3个" in answer.answer
    second = answer.answer.split("【第二问】")[1]
    assert "无法回答" in second and "[" not in second


def _markers_match(answer) -> None:
    markers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)})
    assert markers == [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("苏州这份计划的有效期到什么时候？", "2026"),
        ("江苏这份行动方案是哪个机关发出来的？", "江苏省人民政府"),
    ],
)
def test_a_field_question_worded_freely_is_answered_from_the_fields(
    other_service: AssistantService, question: str, fact: str
) -> None:
    answered(other_service, question, fact)


def test_the_kind_a_question_names_chooses_among_a_level_s_documents() -> None:
    from types import SimpleNamespace

    from bot.attribution import _of_the_kind_named

    def entry(title: str) -> dict:
        return {"summary": {"title": title}}

    snapshot = SimpleNamespace(
        documents={
            "plan": entry("江苏省新型基础设施建设行动方案(2024-2026年)"),
            "opinions": entry("江蘇省人民政府辦公廳關於數字基礎設施建設的指導意見"),
        }
    )
    both = frozenset({"plan", "opinions"})
    assert _of_the_kind_named(both, "省里的指导意见要布局哪些设施？", snapshot) == {"opinions"}
    assert _of_the_kind_named(both, "省裡的行動方案定了多少基站？", snapshot) == {"plan"}
    # no kind, a kind no document has, or two kinds: the question does not narrow
    assert _of_the_kind_named(both, "省里要布局哪些设施？", snapshot) == both
    assert _of_the_kind_named(both, "省里的管理办法怎么说？", snapshot) == both
    assert _of_the_kind_named(both, "省里的方案和意见分别怎么说？", snapshot) == both


@pytest.mark.parametrize(
    "question",
    [
        "这两份文件分别是哪个机关发布的？",
        "库里的文件各是哪个机关印发的",
        "Which bodies issued these two documents?",
    ],
)
def test_a_field_asked_of_the_documents_together_is_answered_for_each(
    other_service: AssistantService, question: str
) -> None:
    answered(other_service, question, "苏州市人民政府办公室", "江苏省人民政府")
