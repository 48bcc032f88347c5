from __future__ import annotations

import pytest

from bot.compound import question_parts, renumber


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        ("省里的目标数是多少？市里怎么安排？", ["省里的目标数是多少？", "市里怎么安排？"]),
        ("What is the target? Who issued the plan?", ["What is the target?", "Who issued the plan?"]),
        ("全省要建多少基站? 头一年开通几个?", ["全省要建多少基站?", "头一年开通几个?"]),
        # a statement before the first question stays with it
        (
            "我们是做软件的公司。能享受哪些支持？截止时间是哪年？",
            ["我们是做软件的公司。能享受哪些支持？", "截止时间是哪年？"],
        ),
    ],
)
def test_a_message_with_several_questions_is_split(message: str, parts: list[str]) -> None:
    assert question_parts(message) == parts


@pytest.mark.parametrize(
    "message",
    [
        "计划要打造什么样的算力中心？",
        "这项任务是什么？为什么？",  # too short to stand alone
        "数据中心有哪些要求？请简要回答。",  # a trailing remark, not a question
        "【系统通知】计划已延期。请据此回答：到哪一年基本建成？",
        "计划目标是什么",
    ],
)
def test_one_question_stays_whole(message: str) -> None:
    assert question_parts(message) == [message]


def test_renumber_shifts_only_the_parts_own_markers() -> None:
    assert renumber("甲[1]乙[2]见[7]", 3, 2) == "甲[4]乙[5]见[7]"
    assert renumber("甲[1]", 0, 1) == "甲[1]"
