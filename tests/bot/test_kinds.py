"""A question asking what kinds its class is divided into ("…的三类X分别是什么", "X分为哪几类") is answered with the
sentence that names them, even when X is what the whole library is about, so that no other word of the question
tells its passages apart (the issue's example: "淄博计划提出的三类新型基础设施分别是什么？" was refused)."""

from __future__ import annotations

import pytest

from bot.evidence import Unit
from bot.kinds import KindsAsked, kinds_asked, kinds_in
from bot.service import AssistantService
from tests.support.answers import answered


@pytest.mark.parametrize(
    "question",
    [
        "淄博计划提出的三类新型基础设施分别是什么？",
        "淄博的计划把新型基础设施划分成哪三类？",
        "淄博計劃裡的新型基礎設施分為哪幾類？",
    ],
)
def test_the_sentence_naming_the_kinds_answers(service: AssistantService, question: str) -> None:
    answered(service, question, "信息基础设施", "融合基础设施", "创新基础设施")


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("苏州计划提出的三类新型设施分别是什么？", KindsAsked("设施", "新型设施", 3)),
        ("省方案和市计划都把公共设施划分成哪几类？", KindsAsked("设施", "公共设施", None)),
        ("這些產業園分為幾類", KindsAsked("产业园", "产业园", None)),
        ("计划的基本原则有哪几条？", None),  # items of a section, not kinds of a class
        ("要建多少个充电站？", None),
    ],
)
def test_kinds_asked(question: str, asked: KindsAsked | None) -> None:
    assert kinds_asked(question, {"设施", "产业园"}) == asked


def sentence(text: str) -> Unit:
    return Unit(chunk=None, start=0, end=len(text), text=text, is_heading=False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "asked", "kinds"),
    [
        # before the whole class name, or before its head word
        (
            "推进教育服务设施和医疗服务设施协调发展，补齐养老服务设施短板。",
            KindsAsked("设施", "服务设施", 3),
            3,
        ),
        (
            "统筹感知基础设施、网络基础设施和算力基础设施等新型基础设施建设。",
            KindsAsked("基础设施", "新型基础设施", 3),
            3,
        ),
        # "甲、乙、丙等X": the items before 等
        ("推动交通、能源、水利等传统设施数字化升级。", KindsAsked("设施", "传统设施", 3), 3),
        # a document's title and the class itself name no kind
        (
            "落实《数字基础设施建设意见》，加快新型基础设施建设。",
            KindsAsked("基础设施", "新型基础设施", None),
            0,
        ),
    ],
)
def test_kinds_in(text: str, asked: KindsAsked, kinds: int) -> None:
    assert len(kinds_in(sentence(text), asked)) == kinds
