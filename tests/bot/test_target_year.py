"""A plan's target year ("目标年份是哪一年", "which target year") is its deadline field: the year its targets are
set for ("到2026年，…"). A document field of a place no document writes ("浙江方案的文号") is refused, not answered
with another place's document. A library of another province (written here)."""

from __future__ import annotations

import pytest

from bot.question import analyze
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import JIANGSU_PLAN_NOTICE, service_over

PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、行动目标
到2026年，全省新型基础设施建设水平位居全国前列，建成5G基站30万个。
二、重点行动
(一)布局算力枢纽。支持南京建设算力枢纽节点。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("target-year"), {"province-plan.txt": PLAN}, e5)


@pytest.mark.parametrize(
    "question",
    [
        "江苏方案的目标年份是哪一年？",
        "江苏方案的目标年是哪年？",
        "Which target year does the Jiangsu plan set?",
    ],
)
def test_a_target_year_is_the_deadline_field(question: str) -> None:
    assert "deadline" in analyze(question).metadata_fields


def test_a_yearly_rate_is_no_target_year() -> None:
    assert "deadline" not in analyze("江苏方案的目标年均增长率是多少？").metadata_fields


@pytest.mark.parametrize(
    "question", ["江苏方案的目标年份是哪一年？", "Which target year does the Jiangsu plan set?"]
)
def test_the_target_year_is_answered_from_the_targets(service: AssistantService, question: str) -> None:
    answered(service, question, "到2026年")


@pytest.mark.parametrize(
    "question",
    [
        "浙江方案的文号是什么？",
        "What is the document number of the Zhejiang plan?",
        "浙江方案的目标年份是哪一年？",
    ],
)
def test_a_field_of_a_place_no_document_writes_is_refused(service: AssistantService, question: str) -> None:
    answer = refused(service, question)
    assert "浙江" in (answer.refusal_reason or "")


def test_the_field_of_the_place_the_library_has_is_answered(service: AssistantService) -> None:
    answered(service, "江苏方案的文号是什么？", "苏政发〔2024〕15号")
