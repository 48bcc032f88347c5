"""Answers are built from content, not headings; validity and period come from the document's fields and today."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.notices import validity_statement
from bot.service import AssistantService

HEADING_ONLY = re.compile(
    r"^(?:\d+\.\s*)?(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+\s*[.、．])[^。；]{0,30}。?\[\d+\]$"
)


@pytest.mark.parametrize(
    "question",
    [
        "山东省数字基础设施指导意见在信息通信网络方面部署了哪些任务？",
        "山東省數字基礎設施指導意見在信息通信網絡方面部署了哪些任務？",
        "省里的数字基础设施意见，信息通信网络这块要做哪几件事？",
    ],
)
def test_list_items_are_content_under_their_headings(service: AssistantService, question: str) -> None:
    answer = service.ask(question)
    assert not answer.refused
    items = [line for line in answer.answer.splitlines() if re.match(r"^\d+\. ", line)]
    assert len(items) >= 2, answer.answer
    for line in items:
        assert not HEADING_ONLY.match(line), line  # never a heading on its own
        assert "二、重点任务" not in line  # an ancestor section's heading is context, not an item


def test_an_ancestor_heading_is_not_an_answer_sentence(service: AssistantService) -> None:
    answer = service.ask("全省要建多少5G基站？")
    assert "11.2" in answer.answer
    assert "信息基礎設施建設行動。[" not in answer.answer  # the (一) heading above the clause


def test_validity_statement_from_fields_and_today() -> None:
    summary = {"title": "某市三年行动计划", "status_as_published": "现行有效", "period": "2021-2023"}
    ended = validity_statement(summary, dt.date(2026, 12, 1))
    assert "现行有效" in ended and "已于2023年底结束" in ended
    running = validity_statement(summary, dt.date(2022, 6, 1))
    assert "仍在执行期内" in running
    assert validity_statement({"title": "无字段文件"}, dt.date(2026, 12, 1)) == ""


@pytest.mark.parametrize(
    "question",
    ["淄博的计划现在还有效吗？", "Is the Zibo plan still in force?", "淄博新基建计划的执行期到哪年结束？"],
)
def test_validity_questions_say_whether_the_period_has_ended(
    service: AssistantService, question: str
) -> None:
    answer = service.ask(question)
    assert not answer.refused
    first = answer.answer.splitlines()[0]
    assert "2021—2023" in first and "结束" in first, answer.answer


@pytest.mark.parametrize(
    "question",
    ["What are the Zibo plan's basic principles?", "What are the safeguard measures in the Zibo plan?"],
)
def test_an_english_list_question_names_its_section_through_the_glossary(
    service: AssistantService, question: str
) -> None:
    answer = service.ask(question)
    assert not answer.refused
    items = [line for line in answer.answer.splitlines() if re.match(r"^\d+\. ", line)]
    assert len(items) >= 3, answer.answer
    assert len({c.section_path.split(" › ")[1] for c in answer.citations}) >= 3  # one item per subsection
