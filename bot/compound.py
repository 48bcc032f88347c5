"""A message that asks several questions at once ("省里定了多少个？淄博又是怎么说的？") is answered part by part:
each question mark ends a part, and so does a clause that asks when a connective opens another that asks and
stands on its own ("…要建几座，此外…有无…安排？", "How many …, and does the plan … ?"). A part that is too
short to stand alone ("为什么？") stays with the one before, and a leading statement without a question mark ("我们是一家物流企业。") stays with the first question. Later parts
are read as follow-ups of the earlier ones, so "头一年开通几个？" keeps the subject of the question before."""

from __future__ import annotations

import re

from bot.question import analyze, asks
from retrieval.normalize import compact

MAX_PARTS = 4
MIN_PART_CHARS = 5  # CJK characters (or, for English, 3 words) for a part to stand on its own

_PARTS = re.compile(r"[^？?]*[？?]+|[^？?]+$")
_WORD = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_MARKER = re.compile(r"\[(\d+)\]")
# a connective right after a comma or semicolon that opens another question: "另外", "此外", "同时", "再问一下",
# or an English ", and" followed by a question's auxiliary or question word. The connective only joins the two
# questions, so it is left out of the second
_CONNECTIVE = re.compile(
    r"(?<=[，,；;])\s*(?:(?:另外|此外|同时|再者|顺便问一下|顺便问|再问一下|再问)[，,]?|and\s+(?=(?:does|do|did|is|are|was|were|can|will|what|which"
    r"|how|when|where|who|whether)\b))",
    re.IGNORECASE,
)


def _substantial(part: str) -> bool:
    return len(_CJK.findall(compact(part))) >= MIN_PART_CHARS or len(_WORD.findall(part)) >= 3


def _at_connectives(piece: str) -> list[str]:
    """A piece split where a connective opens a second question, when the clauses on both sides ask and the
    second stands on its own."""
    out: list[str] = []
    start = 0
    for match in _CONNECTIVE.finditer(piece):
        before, after = piece[start : match.start()], piece[match.end() :]
        if (
            asks(before.rstrip("，,；; "))
            and asks(after)
            and _substantial(before)
            and _substantial(after)
            and not analyze(after).looks_like_follow_up  # "…, and when is it due?" leans on the first clause
        ):
            out.append(before.rstrip("，,；; ") + ("？" if _CJK.search(before) else "?"))
            start = match.end()
    return [*out, piece[start:]]


def question_parts(text: str) -> list[str]:
    """The questions a message asks, in order; a single question gives a one-element list."""
    pieces = [p.strip() for m in _PARTS.findall(text.strip()) for p in _at_connectives(m) if p.strip()]
    parts: list[str] = []
    for piece in pieces:
        asks = piece.rstrip().endswith(("？", "?"))
        if parts and (not _substantial(piece) or not asks):
            parts[-1] += piece  # too short to stand alone, or a trailing remark: part of the question before
        else:
            parts.append(piece)
    if len(parts) > MAX_PARTS:  # a long list of questions: the first ones apart, the rest together
        parts = [*parts[: MAX_PARTS - 1], "".join(parts[MAX_PARTS - 1 :])]
    return parts if len(parts) > 1 and all(_substantial(p) for p in parts) else [text]


def renumber(answer: str, offset: int, count: int) -> str:
    """Shift the [n] citation markers of one part's answer (1..count) by offset, for the merged answer."""

    def shift(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[{n + offset}]" if 1 <= n <= count else match.group(0)

    return _MARKER.sub(shift, answer) if offset else answer


_ORDINALS = "一二三四五六七八九十"


def heading(index: int) -> str:
    """The line that introduces one part's answer in the merged answer. The question is not repeated: what a
    user asserts in it (a year, a figure) must not appear in an answer as if the documents said it."""
    return f"【第{_ORDINALS[index]}问】"
