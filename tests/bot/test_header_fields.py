"""Fields only a document's header gives (front matter of a fragment without its 落款) are answered from the
header and cited as such; a library written here, of another province, so that nothing depends on the shipped
corpus."""

from __future__ import annotations

import pytest

from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.libraries import service_over

FRAGMENT = """---
id: zhejiang-digital-opinions
title: 浙江省人民政府办公厅关于加快数字基础设施建设的指导意见
issuer: 浙江省人民政府办公厅
published: 2022
completeness: partial
---
各市、县(市、区)人民政府,省政府直属各单位:
为加快全省数字基础设施建设,经省政府同意,提出如下意见。
一、总体要求
到2025年,全省千兆光网覆盖所有城镇和行政村,建成5G基站20万个。
二、主要任务
(一)建设高速泛在的通信网络。推进千兆光网进小区、进楼宇,提升农村网络覆盖水平。
(二)布局绿色算力设施。新建大型数据中心电能利用效率不高于1.3。
"""
CITY_PLAN = """宁波市人民政府关于印发宁波市智慧城市建设行动方案的通知
甬政发〔2023〕9号
各区(县、市)人民政府,市直及部省属驻甬各单位:
现将《宁波市智慧城市建设行动方案》印发给你们,请认真贯彻执行。
宁波市人民政府
2023年5月6日
一、工作目标
到2025年,建成城市大脑平台1个,开放公共数据集500个。
"""
OPINIONS = "zhejiang-digital-opinions"


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(
        tmp_path_factory.mktemp("header-library"),
        {"zhejiang-opinions.md": FRAGMENT, "ningbo-plan.txt": CITY_PLAN},
        e5,
    )


@pytest.mark.parametrize(
    "question",
    [
        "浙江数字基础设施建设指导意见是哪个部门发的？",
        "浙江那份指导意见的发文单位是谁？",
        "浙江省数字基础设施指导意见由哪个机关印发？",
        "Which authority issued Zhejiang's guiding opinions on digital infrastructure?",
    ],
)
def test_an_issuer_only_the_header_gives_is_answered_from_it(
    service: AssistantService, question: str
) -> None:
    answer = service.ask(question)
    assert not answer.refused, answer.answer
    assert "浙江省人民政府办公厅" in answer.answer
    header = [c for c in answer.citations if c.source == "header"]
    assert header and header[0].doc_id == OPINIONS
    assert header[0].section_path == "文件信息" and header[0].quote == "发文机关：浙江省人民政府办公厅"


def test_two_fields_asked_at_once_are_both_answered(service: AssistantService) -> None:
    answer = service.ask("浙江数字基础设施指导意见的发文单位是哪个？哪年发的？")
    assert not answer.refused, answer.answer
    quotes = {c.quote for c in answer.citations if c.source == "header"}
    assert quotes == {"发文机关：浙江省人民政府办公厅", "发布日期：2022"}


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("浙江数字基础设施指导意见是几月几日印发的？", "只标注了年份"),  # the header gives a year, not a day
        ("浙江数字基础设施指导意见的文号是多少？", "没有文号"),  # the header gives no 文号
    ],
)
def test_what_the_header_does_not_give_is_refused(
    service: AssistantService, question: str, reason: str
) -> None:
    answer = service.ask(question)
    assert answer.refused, answer.answer
    assert reason in (answer.refusal_reason or "")
    assert not any(c.source == "header" for c in answer.citations)


def test_content_is_cited_from_the_text_at_its_offsets(service: AssistantService) -> None:
    answer = service.ask("浙江的指导意见对新建大型数据中心的电能利用效率有什么要求？")
    assert not answer.refused and "1.3" in answer.answer, answer.answer
    snapshot = service.library.live.current()
    assert answer.citations and all(c.source == "text" for c in answer.citations)
    for citation in answer.citations:
        assert snapshot.document_text(citation.doc_id)[citation.start : citation.end] == citation.quote


def test_a_field_the_text_gives_is_cited_from_the_text(service: AssistantService) -> None:
    answer = service.ask("宁波智慧城市建设行动方案是哪个机关发布的？")
    assert not answer.refused and "宁波市人民政府" in answer.answer, answer.answer
    assert all(c.source == "text" for c in answer.citations)
