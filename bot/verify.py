"""Checks a generated answer against the passages it was given before anyone sees it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.answer import REFUSAL_SENTENCE
from retrieval.normalize import compact, normalize_for_matching

MARKER = re.compile(r"\[(\d+)\]")
_FACT = re.compile(r"[\u4e00-\u9fff]{2}字\[\d{4}\]\d+号|\d+(?:\.\d+)?%?")


@dataclass
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)


_SOURCE_LINE = re.compile(r"^依据《[^\n]*》[^\n]*：$", re.M)
_LIST_NUMBER = re.compile(r"^\d+\.\s", re.M)


def claims_text(answer: str) -> str:
    """The answer without what only frames it: the "依据《…》（文号）：" source lines and list numbering."""
    return _LIST_NUMBER.sub("", _SOURCE_LINE.sub("", answer))


_DATE = re.compile(r"(\d{4})\s*[.．/年-]\s*(\d{1,2})\s*[.．/月-]\s*(\d{1,2})(?!\d)")


def _number(fact: str) -> str:
    """An integer without leading zeros ("09" and "9" are the same fact); decimals, percentages, 文号 as is."""
    return str(int(fact)) if fact.isdigit() else fact


def normalise_dates(text: str) -> str:
    """2021.09.27, 2021-9-27 and 2021年09月27日 all as 2021年9月27日."""
    return _DATE.sub(lambda m: f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日", text)


def facts_in(text: str) -> list[str]:
    """Numbers, dates, percentages and 文号 in a text, normalised (full-width digits, 〔〕 brackets; a date's
    year, month and day as separate numbers, however it is written: 2021.09.27 = 2021年9月27日)."""
    norm = normalize_for_matching(MARKER.sub(" ", text)).replace(" ", "")
    norm = normalise_dates(norm)
    return [_number(m.group(0)) for m in _FACT.finditer(norm)]


def verify(answer: str, passages: Sequence[str], facts: str = "") -> Verification:
    """Every [n] refers to a given passage, every fact appears in a cited passage (or in `facts`: document
    fields shown with the answer), a refusal is exact."""
    stripped = answer.strip()
    if compact(REFUSAL_SENTENCE) in compact(stripped):
        if compact(stripped) != compact(REFUSAL_SENTENCE):
            return Verification(False, ["a refusal must be exactly the fixed sentence"])
        return Verification(True)
    problems: list[str] = []
    cited = sorted({int(n) for n in MARKER.findall(stripped)})
    if not cited:
        problems.append("no [n] citation in the answer")
    bad = [n for n in cited if not 1 <= n <= len(passages)]
    if bad:
        problems.append(f"citation(s) {bad} refer to no given passage")
    # facts compare whole: "20" is not supported by a passage that only says "2022"
    # per passage: joined, the end of one passage's number would run into the start of the next one's
    evidence_facts = set(facts_in(facts)).union(
        *(facts_in(passages[n - 1]) for n in cited if 1 <= n <= len(passages))
    )
    for fact in facts_in(stripped):
        if fact not in evidence_facts:
            problems.append(f"{fact!r} does not appear in the cited passages")
    return Verification(not problems, problems, cited)
