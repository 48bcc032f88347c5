"""A message that asks several questions at once ("省里定了多少个？淄博又是怎么说的？") is answered part by part:
each question mark ends a part, a part that is too short to stand alone ("为什么？") stays with the one before,
and a leading statement without a question mark ("我们是一家物流企业。") stays with the first question. Later parts
are read as follow-ups of the earlier ones, so "头一年开通几个？" keeps the subject of the question before."""

from __future__ import annotations

import re

from retrieval.normalize import compact

MAX_PARTS = 4
MIN_PART_CHARS = 5  # CJK characters (or, for English, 3 words) for a part to stand on its own

_PARTS = re.compile(r"[^？?]*[？?]+|[^？?]+$")
_WORD = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_MARKER = re.compile(r"\[(\d+)\]")


def _substantial(part: str) -> bool:
    return len(_CJK.findall(compact(part))) >= MIN_PART_CHARS or len(_WORD.findall(part)) >= 3


def question_parts(text: str) -> list[str]:
    """The questions a message asks, in order; a single question gives a one-element list."""
    pieces = [p.strip() for p in _PARTS.findall(text.strip()) if p.strip()]
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
