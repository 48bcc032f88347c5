"""bot.text_input: the one rule for client-supplied text, and the service applying it to questions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.service import AssistantService, InvalidQuestion
from bot.text_input import InvalidText, clean_text, text_problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("新基建\ud800", "U+D800"),
        ("\udfff", "U+DFFF"),
        ("a\x00b", "U+0000"),
        ("\x1b[31m", "U+001B"),
        ("x\x85", "U+0085"),
        ("\u202e反转", "U+202E"),
        ("\u2066x", "U+2066"),
    ],
)
def test_refused_characters_are_named(text: str, expected: str) -> None:
    problem = text_problem(text)
    assert problem is not None and expected in problem
    with pytest.raises(InvalidText) as caught:
        clean_text(text, field="问题")
    assert expected in str(caught.value) and str(caught.value).startswith("问题")


@pytest.mark.parametrize(
    "text",
    ["淄博新基建", "ＡＢＣ１２３，？", "計劃的原則", "line\nbreak\tand tab", "\u200fمرحبا", "emoji 🚀"],
)
def test_ordinary_text_passes_unchanged(text: str) -> None:
    assert clean_text(text, field="问题") == text


def test_single_line_refuses_line_breaks_and_length_is_checked() -> None:
    with pytest.raises(InvalidText):
        clean_text("a\nb", field="会话", single_line=True)
    with pytest.raises(InvalidText, match="过长"):
        clean_text("字" * 11, field="问题", max_chars=10)


@given(st.text())
def test_accepted_text_always_encodes_and_round_trips(text: str) -> None:
    if text_problem(text) is None:
        assert text.encode("utf-8").decode("utf-8") == text


def test_service_refuses_bad_question_before_answering(service: AssistantService) -> None:
    with pytest.raises(InvalidQuestion, match="U\\+D800"):
        service.ask("新基建\ud800")
    with pytest.raises(InvalidQuestion, match="U\\+0000"):
        service.ask("新基建\x00有哪些")
