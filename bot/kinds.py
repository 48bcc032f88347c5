"""The kinds a class is divided into: "…的三类X分别是什么", "X分为哪几类", "X包括哪几种" ask for them.

The answer is the sentence that names that many different kinds of the class's head word ("甲类设施、乙类设施和
丙类设施" for "设施分为哪三类"), or at least two when no number is asked. The class is often what the whole library
is about (a library of plans for one kind of infrastructure writes its name in most passages), so the question has
no word that tells its passages apart: whether a retrieved passage names the kinds is what says it is answered."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.attribution import designated_documents
from bot.evidence import Unit, units_of
from bot.question import number_of
from retrieval.index import IndexSnapshot
from retrieval.lexical import search_words
from retrieval.metadata import DOCUMENT_KINDS
from retrieval.normalize import compact, to_simplified
from retrieval.retriever import Passage

MAX_CLASS_CHARS = 12
MODIFIER_CHARS = 2  # the characters before the head word that tell one kind from another ("信息" in 信息设施)

_COUNT = r"(?P<count>哪?[两二三四五六七八九十]|哪?\d{1,2}|哪几|哪些|几)"
_KIND = r"大?(?:类|种)"
# "X分为哪几类", "X被划分成三大类", "X包括哪几种": the class stands before the verb
_DIVIDED = re.compile(rf"(?:分成|分为|划分为|划分成|分作|包括|包含|涵盖|有)了?{_COUNT}{_KIND}")
# "三类X分别是什么", "哪几类X": the class follows the count
_COUNTED = re.compile(rf"{_COUNT}{_KIND}(?P<rest>[\u4e00-\u9fff]{{2,{MAX_CLASS_CHARS}}})")
# where the class's name ends after the count ("三类设施分别是…", "哪几类设施？")
_AFTER_CLASS = re.compile(r"分别|各自|都|是|有|包括|指|呢|吗")
# where it starts before the verb: after a kind of document or a particle ("…计划都把设施分为", "方案里设施包括")
_BEFORE_CLASS = re.compile(
    "|".join(sorted(DOCUMENT_KINDS, key=len, reverse=True))
    + r"|[，,。；;：:把将对的里都了和与及在]|这些|那些"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TITLES = re.compile(r"《[^》]*》")
_ITEM_BREAK = re.compile(r"、|以及|和|及|与")


@dataclass(frozen=True)
class KindsAsked:
    head: str  # the class's head word, which each kind's name ends with ("设施")
    name: str  # the class as asked ("新型设施"): a mention of the class itself is no kind of it
    count: int | None  # how many kinds are asked for, when the question says


def kinds_asked(question: str, vocabulary: set[str] | frozenset[str] = frozenset()) -> KindsAsked | None:
    """The class whose kinds a question asks for, with its head word: the longest ending of its name that is a
    word of its own, in the library or in the language ("新型基础设施" → 基础设施)."""
    norm = compact(to_simplified(question))
    name = count = None
    divided = _DIVIDED.search(norm)
    if divided is not None:
        before = norm[: divided.start()]
        starts = [m.end() for m in _BEFORE_CLASS.finditer(before)]
        name, count = before[starts[-1] if starts else 0 :][-MAX_CLASS_CHARS:], divided.group("count")
    else:
        counted = _COUNTED.search(norm)
        if counted is not None:
            name, count = _AFTER_CLASS.split(counted.group("rest"), maxsplit=1)[0], counted.group("count")
    if not name or len(name) < 2 or not all(_CJK.match(c) for c in name):
        return None
    words = set(search_words(name))
    endings = (name[i:] for i in range(1, len(name) - 1))
    head = next((e for e in endings if e in words or e in vocabulary), name)
    return KindsAsked(head, name, number_of(count.removeprefix("哪")) if count else None)


def kinds_in(unit: Unit, asked: KindsAsked) -> list[str]:
    """The different kinds of the asked class a sentence names, in order (the class itself and a bare mention of
    its head are not kinds)."""
    text = _TITLES.sub("", compact(to_simplified(unit.text)))  # a title in 《》 names no kind
    listed = re.search(rf"(?P<items>[^，,。；;：:]+?)等{re.escape(asked.name)}", text)
    if listed is not None:
        # "甲、乙、丙等X": the items before 等 are the kinds, whatever they end with
        items = [i for i in _ITEM_BREAK.split(listed.group("items")) if i]
        if len(items) >= 2:
            return items
    # the kinds are named before the class's whole name ("教育服务设施" for 服务设施) or before its head word
    # ("信息基础设施" for 新型基础设施)
    for ending in dict.fromkeys((asked.name, asked.head)):
        found: list[str] = []
        for at in (m.start() for m in re.finditer(re.escape(ending), text)):
            modifier = text[max(0, at - MODIFIER_CHARS) : at]
            kind = modifier + ending
            if (
                len(modifier) == MODIFIER_CHARS
                and all(_CJK.match(c) for c in modifier)
                and "的" not in modifier
                and not asked.name.endswith(kind)
                and kind not in found
            ):
                found.append(kind)
        if len(found) >= 2:
            return found
    return []


def kinds_sentence(
    question: str, asked: KindsAsked, passages: Sequence[Passage], snapshot: IndexSnapshot
) -> Unit | None:
    """The sentence that names as many kinds as asked (without a number, the most, at least two), looked for in
    the passages retrieved, then anywhere in the document the question names or, naming none, the first
    passage's (a plan names its kinds once, in its principles or targets, whatever the question's other words
    matched); the first of equals."""
    named = {d for designation in designated_documents(question, snapshot) for d in designation.documents}
    chunks = [p.chunk for p in passages if not named or p.chunk.doc_id in named]
    for doc_id in sorted(named) if named else [p.chunk.doc_id for p in passages[:1]]:
        chunks += snapshot.chunks_of(doc_id)
    best: tuple[int, Unit] | None = None
    for chunk in chunks:
        for unit in units_of(chunk):
            if unit.is_heading:
                continue
            kinds = len(kinds_in(unit, asked))
            if kinds == asked.count:
                return unit
            if asked.count is None and kinds >= 2 and (best is None or kinds > best[0]):
                best = (kinds, unit)
    return best[1] if best else None
