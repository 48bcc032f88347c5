"""What an English question asks for: "list" as a request ("please list…", "a list of…", "what … are listed"), not
as a noun ("the project list annexed to…", "a linked list"); an investment total asks for money."""

from __future__ import annotations

import pytest

from bot.question import analyze


@pytest.mark.parametrize(
    ("question", "wants_list"),
    [
        ("Please list each component of the plan's targets.", True),
        ("List the safeguard measures of the Jiangsu plan.", True),
        ("Give me a list of the key tasks.", True),
        ("What safeguard measures are listed in the Jiangsu plan?", True),
        ("Which specific targets are listed under the plan's goals?", True),
        ("How many key projects are listed in the project list annexed to the plan?", False),
        ("Write a Python function that reverses a linked list.", False),
    ],
)
def test_list_is_asked_for_not_named(question: str, wants_list: bool) -> None:
    assert analyze(question).wants_list is wants_list


@pytest.mark.parametrize(
    "question",
    [
        "How many key projects are there, and what is their combined investment?",
        "What is the total investment of the plan's projects?",
        "What investment amount does the plan set for data centres?",
    ],
)
def test_an_investment_total_asks_for_money(question: str) -> None:
    assert analyze(question).wants_money
