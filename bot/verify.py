"""Checks a generated answer against the passages it was given before anyone sees it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.answer import REFUSAL_SENTENCE
from retrieval.normalize import compact, normalize_for_matching

MARKER = re.compile(r"\[(\d+)\]")
# a number with its magnitude word, in either language: 11.2万 and 112,000 are the same figure, "11.2 million" is
# another one (a translated lead must not move the decimal point)
_SCALES = {"万": 10_000, "亿": 100_000_000, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_FACT = re.compile(
    r"[\u4e00-\u9fff]{2}字\[\d{4}\]\d+号|(\d+(?:\.\d+)?)(?:(%|percent)|(万|亿|thousand|million|billion))?",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SPACE = re.compile(r"(?<!\d)\s+|\s+(?!\d)")


CITE_HINT = "每句末尾都要标注所依据原文句子的编号，如[1]"
FACT_HINT = "数字、日期和文号要照抄所引原文，连同原文的单位（万、亿、%），不要换算或补充"


@dataclass
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    # what a writer must change, in Chinese and without the rejected text's wording (a generative answerer is
    # asked once more with these; `problems` is for the logs)
    hints: list[str] = field(default_factory=list)

    def fail(self, problem: str, hint: str) -> None:
        self.ok = False
        self.problems.append(problem)
        if hint not in self.hints:
            self.hints.append(hint)


_SOURCE_LINE = re.compile(r"^依据《[^\n]*》[^\n]*：$", re.M)
_LIST_NUMBER = re.compile(r"^\d+\.\s", re.M)


def claims_text(answer: str) -> str:
    """The answer without what only frames it: the "依据《…》（文号）：" source lines and list numbering."""
    return _LIST_NUMBER.sub("", _SOURCE_LINE.sub("", answer))


_DATE = re.compile(r"(\d{4})\s*[.．/年-]\s*(\d{1,2})\s*[.．/月-]\s*(\d{1,2})(?!\d)")


def _number(match: re.Match[str]) -> str:
    """An integer without leading zeros ("09" and "9" are the same fact); a number with a magnitude word as its
    value (11.2万 → 112000); decimals and 文号 as they are written; percentages with "%"."""
    number, percent, scale = match.groups()
    if number is None:
        return match.group(0)  # a 文号
    if percent:
        return f"{number}%"
    if scale:
        value = Decimal(number) * _SCALES[scale.lower()]
        return str(value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize())
    return str(int(number)) if number.isdigit() else number


def normalise_dates(text: str) -> str:
    """2021.09.27, 2021-9-27 and 2021年09月27日 all as 2021年9月27日."""
    return _DATE.sub(lambda m: f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日", text)


def facts_in(text: str) -> list[str]:
    """Numbers, dates, percentages and 文号 in a text, normalised (full-width digits, 〔〕 brackets; a date's
    year, month and day as separate numbers, however it is written: 2021.09.27 = 2021年9月27日; a number with
    its magnitude word as its value, in either language: 11.2万 = 112,000 = 112 thousand)."""
    # spaces go (11.2 万, 11.2 million), but not between two numbers ("112,000 5G" is two figures)
    norm = _SPACE.sub("", _THOUSANDS.sub("", normalize_for_matching(MARKER.sub(" ", text))))
    norm = normalise_dates(norm)
    return [_number(m) for m in _FACT.finditer(norm)]


def verify(answer: str, passages: Sequence[str], facts: str = "") -> Verification:
    """Every [n] refers to a given passage, every fact appears in a cited passage (or in `facts`: document
    fields shown with the answer), a refusal is exact."""
    stripped = answer.strip()
    if compact(REFUSAL_SENTENCE) in compact(stripped):
        if compact(stripped) != compact(REFUSAL_SENTENCE):
            return Verification(False, ["a refusal must be exactly the fixed sentence"])
        return Verification(True)
    check = Verification(True)
    cited = sorted({int(n) for n in MARKER.findall(stripped)})
    check.cited = cited
    if not cited:
        check.fail("no [n] citation in the answer", CITE_HINT)
    bad = [n for n in cited if not 1 <= n <= len(passages)]
    if bad:
        check.fail(
            f"citation(s) {bad} refer to no given passage", f"只能引用给出的编号[1]至[{len(passages)}]"
        )
    # facts compare whole: "20" is not supported by a passage that only says "2022"
    # per passage: joined, the end of one passage's number would run into the start of the next one's
    evidence_facts = set(facts_in(facts)).union(
        *(facts_in(passages[n - 1]) for n in cited if 1 <= n <= len(passages))
    )
    for fact in facts_in(stripped):
        if fact not in evidence_facts:
            check.fail(f"{fact!r} does not appear in the cited passages", FACT_HINT)
    return check
