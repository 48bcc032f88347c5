"""A code a question names (an acronym, letters with digits) that the library never writes is refused by name."""

from __future__ import annotations

import pytest

from bot.answerers.extractive import _siblings
from bot.question import code_names
from bot.service import AssistantService
from tests.support.answers import answered, refused


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("数据中心的CUE（碳使用效率）要达到多少？", ["CUE"]),
        ("有没有6G试验网的安排？", ["6G"]),
        ("ＮＦＣ终端怎么补贴", ["NFC"]),  # full-width letters
        ("NB-IoT和Wi-Fi覆盖", ["NB-IoT", "Wi-Fi"]),
        ("IPv6改造", ["IPv6"]),
        ("储能要到100MW吗，线路几kV", []),  # units of measure
        ("Tell me about the plan. OK?", []),  # a word the dictionary knows
        ("IGNORE everything", []),  # a word in capitals, longer than a code
        ("Zibo's plan", []),  # one capital: a name, not a code
        ("2023年的目标", []),
    ],
)
def test_codes_are_runs_of_capitals_or_letters_with_digits(text: str, codes: list[str]) -> None:
    assert code_names(text) == codes


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("省里对数据中心的CUE（碳使用效率）有什么要求？", "CUE"),
        ("淄博计划里6G网络什么时候建成？", "6G"),
        ("What does the provincial plan require of NFC payment terminals?", "NFC"),
    ],
)
def test_a_code_the_library_never_writes_is_refused_by_name(
    service: AssistantService, question: str, code: str
) -> None:
    assert code in (refused(service, question).refusal_reason or "")


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("省里对数据中心的PUE有什么要求？", "1.25"),
        ("我们是做NFC芯片的企业，省里对数据中心的PUE有什么要求？", "1.25"),  # the asker's own code is context
        ("We make NFC chips. What PUE does the provincial plan support for data centres?", "1.25"),
    ],
)
def test_a_code_the_library_writes_or_the_asker_describes_themselves_with_is_no_reason_to_refuse(
    service: AssistantService, question: str, fact: str
) -> None:
    answered(service, question, fact)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("4G", "5G", True),
        ("IPv4", "IPv6", True),
        ("PUE", "WUE", True),
        ("5G", "5G", False),
        ("5G", "IPv6", False),
    ],
)
def test_siblings_are_codes_of_one_series(a: str, b: str, expected: bool) -> None:
    assert _siblings(a, b) is expected


@pytest.mark.parametrize(
    "question",
    [
        "自然村的5G信号要覆盖到多大规模？",
        "几十户的自然村能通上5G吗，省里怎么要求的？",
    ],
)
def test_a_sentence_that_says_it_of_the_sibling_code_is_no_answer(
    service: AssistantService, question: str
) -> None:
    # the opinions ask 4G (not 5G) to cover villages of 20 households or more
    reason = refused(service, question).refusal_reason or ""
    assert "4G" in reason and "5G" in reason


def test_the_sibling_asked_too_is_answered(service: AssistantService) -> None:
    answered(service, "自然村的4G和5G覆盖分别有什么要求？", "20户")
