"""Rewrites a follow-up ("那第二项呢？", "这些平台由谁来建？") into a standalone question.

Deterministic by default: carry the previous turn's subject (its standalone question) and, for an
ordinal reference to an enumerated answer, the section that item resolved to. With an LLM configured, the
LLM rewrites and the deterministic rewrite is the fallback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.answer import Turn
from bot.question import QuestionAnalysis, analyze, points_at_a_document


@dataclass(frozen=True)
class Condensed:
    standalone: str
    section_hint: str | None = None  # a section path the follow-up points at
    doc_hint: str | None = None


def condense(question: str, history: Sequence[Turn]) -> Condensed:
    if not history:
        return Condensed(question)
    previous = history[-1]
    analysis = analyze(question)
    if analysis.ordinal and previous.list_items and analysis.ordinal <= len(previous.list_items):
        section = previous.list_items[analysis.ordinal - 1]
        leaf = section.split(" › ")[-1]
        return Condensed(f"{leaf} {question}", section_hint=section, doc_hint=(previous.doc_ids or [None])[0])
    if not analysis.looks_like_follow_up and not _field_of_no_document(analysis):
        return Condensed(question)
    subject = previous.standalone_question
    return Condensed(f"{subject}；{question}", doc_hint=(previous.doc_ids or [None])[0])


def _field_of_no_document(analysis: QuestionAnalysis) -> bool:
    """A document's field asked without naming a document ("什么时候开始施行？"): the field of the document the
    conversation is about."""
    return bool(analysis.metadata_fields) and not (
        analysis.places or analysis.scopes or points_at_a_document(analysis.text)
    )
