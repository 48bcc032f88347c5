"""A figure asked for belongs to what the question measures or counts: "…出口带宽要达到多少" is not answered by
the 出省带宽 of the same sentence's neighbour, "多少个工业互联网平台" not by a sentence that names 工业互联网 beside
someone else's number. The library is written here (another province, plain text, no front matter)."""

from __future__ import annotations

import pytest

from bot.answerers.extractive import _counted_noun
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import JIANGSU_PLAN_NOTICE, service_over

PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、行动目标
到2026年，全省5G网络深度覆盖，工业互联网普及推广，形成80个特色鲜明的典型应用场景。
二、重点行动
1.建设全光网络。
布局大容量光通信高速传输系统，持续提升网络带宽和质量，到2026年年底，骨干网络出省带宽达到300T，农村百兆宽带接入用户占比超过95%。
推进国际海底光缆系统建设和扩容。
2.优化布局数据中心。
规范全省数据中心建设，支持PUE值低于1.3、上架率高于70%的数据中心扩容。
3.加快5G建设。
到2026年，全省建成5G基站30万个。
4.发展特色产业。
鼓励集成电路、生物医药、高端装备“三强”产业通过工业互联网融合发展。
"""
)


@pytest.fixture(scope="module")
def plan_service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("measured"), {"province-plan.txt": PLAN}, e5)


@pytest.mark.parametrize(
    "question",
    [
        "江苏方案提出要培育多少个工业互联网平台？",  # 工业互联网 is named, the number is the scenarios'
        "到2026年年底，江苏国际出口带宽要达到多少？",  # 出省带宽 is another bandwidth
        "江苏全省5G网络用户占比要达到多少？",  # 农村…用户占比 is another share
        "到2026年江苏5G网络用户占比要达到百分之多少？",
        # 大容量…传输系统 is named with no figure; its heading's number ("1.建设全光网络") is no figure either
        "海底光缆系统扩容后的传输容量能达到多少？",
    ],
)
def test_a_figure_of_something_else_is_no_answer(plan_service: AssistantService, question: str) -> None:
    answer = refused(plan_service, question)
    assert "300T" not in answer.answer and "95%" not in answer.answer and "80个" not in answer.answer


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("到2026年年底，江苏骨干网络出省带宽要达到多少？", "300T"),
        ("江苏农村百兆宽带接入用户占比要达到多少？", "95%"),
        ("农村宽带用户里，百兆接入的比例要达到什么水平？", "95%"),  # the level itself is asked
        ("江苏支持的数据中心上架率要高于多少？", "70%"),
        ("江苏到2026年全省5G基站要建多少个？", "30万"),
        ("江苏方案要形成多少个典型应用场景？", "80个"),
    ],
)
def test_the_figure_of_what_is_measured_answers(
    plan_service: AssistantService, question: str, fact: str
) -> None:
    answered(plan_service, question, fact)


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("山东省国际出口带宽要达到多少？", "国际出口带宽"),  # the place says where, not what
        ("到2025年苏州污水处理率要达到百分之多少？", "污水处理率"),  # nor the year, nor 百分之
        ("2030年底前杭州城市绿化覆盖率是多少？", "城市绿化覆盖率"),
        ("扩容后的传输容量能达到多少？", "传输容量"),  # the head follows the last 的
        ("“四强”产业的产值目标分别是多少？", "产值目标"),
        ("数据中心上架率要高于多少？", "数据中心上架率"),
        ("要建多少座加氢站？", "加氢站"),  # what follows the question word, as before
        ("多少钱？", None),
    ],
)
def test_what_a_question_measures(question: str, noun: str | None) -> None:
    assert _counted_noun(question) == noun


RULES = """某市建筑消防管理规定
第一条 为了加强建筑消防管理，制定本规定。
第五条 建筑高度不足二十四米的，消防车通道的宽度应当不少于四米；建筑高度二十四米以上的，消防车通道的宽度应当不少于六米。
第六条 消防车通道的转弯半径应当满足消防车转弯的要求。
"""


@pytest.fixture(scope="module")
def rules_service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("measured-rules"), {"fire-rules.txt": RULES}, e5)


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("建筑高度不足二十四米的，消防车通道的宽度应是多少？", "四米"),
        ("建筑高度二十四米以上的，消防车通道宽度要达到多少？", "六米"),
    ],
)
def test_a_figure_in_chinese_numerals_answers(
    rules_service: AssistantService, question: str, fact: str
) -> None:
    # the article's own number (第五条) is no figure; 四米 is
    answered(rules_service, question, fact)


def test_an_article_number_is_no_figure(rules_service: AssistantService) -> None:
    refused(rules_service, "消防车通道的转弯半径应是多少米？")


def test_a_figure_asked_for_each_is_still_a_figure(plan_service: AssistantService) -> None:
    # "分别是多少" lists, but lists figures: a sentence that names the subject without one is no answer
    refused(plan_service, "江苏“三强”产业到2026年的产值目标分别是多少？")
    answered(plan_service, "江苏骨干网络出省带宽和农村百兆宽带接入用户占比分别要达到多少？", "300T", "95%")
