"""The deterministic rewrite of follow-ups: "那第二条呢？" points into the last list the conversation showed, however
many turns back, and carries the section that item is; other follow-ups carry the previous turn's subject."""

from __future__ import annotations

from bot.answer import Turn
from bot.condense import condense

LISTED = Turn(
    question="苏州计划的基本原则有哪些？",
    standalone_question="苏州计划的基本原则有哪些？",
    answer="1. (一)统筹布局 2. (二)融合发展 3. (三)安全可控",
    doc_ids=["city-plan"],
    list_items=["二、基本原则 › (一)统筹布局", "二、基本原则 › (二)融合发展", "二、基本原则 › (三)安全可控"],
)
PROSE = Turn(
    question="它的保障措施呢？",
    standalone_question="苏州计划的基本原则有哪些？；它的保障措施呢？",
    answer="加强组织领导……",
    doc_ids=["city-plan"],
)


def test_an_ordinal_points_into_the_last_list_shown() -> None:
    condensed = condense("那第二条呢？", [LISTED])
    assert condensed.section_hint == "二、基本原则 › (二)融合发展"
    assert condensed.doc_hint == "city-plan"


def test_an_ordinal_points_into_a_list_turns_back() -> None:
    # the turn in between answered in prose: its answer has no items to count
    condensed = condense("那第二条呢？", [LISTED, PROSE])
    assert condensed.section_hint == "二、基本原则 › (二)融合发展"


def test_an_ordinal_beyond_the_list_is_no_reference_to_it() -> None:
    assert condense("那第五条呢？", [LISTED]).section_hint is None


def test_a_follow_up_without_an_ordinal_carries_the_subject() -> None:
    condensed = condense("那它的文号呢？", [LISTED, PROSE])
    assert condensed.section_hint is None
    assert condensed.standalone.startswith(PROSE.standalone_question)
