"""Assertions on what the assistant answers, shared by the answering tests."""

from __future__ import annotations

from bot.answer import Answer
from bot.service import AssistantService


def answered(service: AssistantService, question: str, *facts: str) -> Answer:
    """Ask; the question must be answered, with every fact in the answer."""
    answer = service.ask(question)
    assert not answer.refused, answer.answer
    for fact in facts:
        assert fact in answer.answer, answer.answer
    return answer


def refused(service: AssistantService, question: str) -> Answer:
    """Ask; the question must be refused."""
    answer = service.ask(question)
    assert answer.refused, answer.answer
    return answer
