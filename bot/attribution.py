"""Which documents a question is about, from the places and levels the library's documents declare.

A question that names one place the library knows ("苏州…", "Suzhou…") is answered only from that place's documents;
one that names no place but a level ("全省…", "省里…") from the documents of that level; one that names two known
places (a comparison) or none is not restricted. A place right before a kind of document ("苏州计划", "江苏省文件")
designates the document and outranks a place the question only talks about ("苏州计划对江苏园区的带动作用？" is about
the Suzhou document). Nothing here names a place: they come from each document (front matter or issuer/title)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.question import QuestionAnalysis, analyze, asked_part, compares, place_names
from retrieval.index import IndexSnapshot
from retrieval.metadata import DOCUMENT_KINDS
from retrieval.normalize import compact, to_simplified


@dataclass(frozen=True)
class LibraryPlaces:
    """The places and levels of one index version's documents."""

    by_place: dict[str, frozenset[str]]
    by_level: dict[str, frozenset[str]]

    @classmethod
    def of(cls, snapshot: IndexSnapshot) -> LibraryPlaces:
        cached = _CACHE.get(snapshot.version)
        if cached is not None:
            return cached
        by_place: dict[str, set[str]] = {}
        by_level: dict[str, set[str]] = {}
        for doc_id, entry in snapshot.documents.items():
            summary = entry.get("summary", {})
            for place in summary.get("places") or ():
                by_place.setdefault(place, set()).add(doc_id)
            if summary.get("jurisdiction"):
                by_level.setdefault(summary["jurisdiction"], set()).add(doc_id)
        places = cls(
            {p: frozenset(d) for p, d in by_place.items()}, {lv: frozenset(d) for lv, d in by_level.items()}
        )
        _CACHE.clear()
        _CACHE[snapshot.version] = places
        return places

    def known(self, places: Sequence[str]) -> list[str]:
        return [p for p in places if p in self.by_place]

    def documents_of(self, place: str) -> frozenset[str]:
        return self.by_place.get(place, frozenset())


_CACHE: dict[str, LibraryPlaces] = {}


def document_groups(analysis: QuestionAnalysis, snapshot: IndexSnapshot) -> list[frozenset[str]]:
    """The groups of documents the question names, in question order: one per known place it names (those that
    designate a document, if any do), plus one per level whose scope word designates a document ("省里的方案")
    when the named places' documents are of another level. Only scope words ("全省…") when it names no place."""
    library = LibraryPlaces.of(snapshot)
    known = library.known(analysis.places)
    designated = [p for p in known if p in analysis.designated]
    groups = [library.documents_of(p) for p in designated or known]
    covered = frozenset().union(*groups) if groups else frozenset()
    # a scope word counts beside a named place when it designates a document or the question compares
    scopes = analysis.designated_scopes if groups and not analysis.compares else analysis.scopes
    for level in scopes:
        documents = library.by_level.get(level, frozenset())
        if documents and not documents & covered:
            groups.append(documents)
    return [g for g in groups if g]


def attributed_documents(analysis: QuestionAnalysis, snapshot: IndexSnapshot) -> frozenset[str] | None:
    """The documents the question restricts itself to, or None when it does not restrict (names no known place
    or level, or compares several). Among a place's or level's documents, the kind the question names ("省里的指导
    意见" of a province with a plan and guiding opinions) keeps those whose title is of that kind."""
    groups = document_groups(analysis, snapshot)
    if not groups:
        return None
    if len(groups) == 1 or len(analysis.places) == 0:
        return _of_the_kind_named(frozenset().union(*groups), analysis.text, snapshot)
    return None


_KIND_NAMES = sorted({*DOCUMENT_KINDS}, key=len, reverse=True)


def _of_the_kind_named(documents: frozenset[str], question: str, snapshot: IndexSnapshot) -> frozenset[str]:
    """The documents whose title ends in the one kind the question names, when that is some but not all of them."""
    asked = compact(to_simplified(question))
    named = {
        kind
        for kind in _KIND_NAMES
        if kind in asked and not any(kind in k and kind != k for k in _KIND_NAMES if k in asked)
    }
    if len(named) != 1 or len(documents) < 2:
        return documents
    kind = named.pop()
    titled = frozenset(
        d
        for d in documents
        if kind in compact(to_simplified(snapshot.documents.get(d, {}).get("summary", {}).get("title", "")))
    )
    return titled if titled and titled != documents else documents


def documents_per_place(analysis: QuestionAnalysis, snapshot: IndexSnapshot) -> list[frozenset[str]]:
    """For a question naming several places or levels (a comparison), each one's documents, in question order."""
    return document_groups(analysis, snapshot)


# a name of a document in a question: up to DESIGNATION_CHARS characters before a kind of document ("省数字经济方案",
# "苏州的数字经济行动计划"), within one clause and one coordinated member ("A和B" names two documents)
DESIGNATION_CHARS = 12
_MEMBER = re.compile(r"[，,。；;：:？?！!、()（）《》“”「」\"]|以及|和|与|及|跟|同")
_KIND_WORD = re.compile("|".join(_KIND_NAMES))
# a preposition or particle does not open a name ("对省方案", "里的计划")
_NOT_A_NAME_START = frozenset("在对把将从按据于向给让被由的里中")
# what may stand between two coordinated names ("A和B", "A、B", "A里和B", "《A》和《B》")
_COORDINATION = re.compile(r"^[》”」\"]?(?:的|里|中)?(?:以及|和|与|及|跟|同|、)[《“「\"]?$")


@dataclass(frozen=True)
class Designation:
    text: str
    start: int
    end: int
    documents: frozenset[str]


def designated_documents(question: str, snapshot: IndexSnapshot) -> list[Designation]:
    """The names of documents the question writes, each with the library's documents it can mean: those whose
    title is of the kind it names, of the place or level it names, and that share most of its other words with the
    name ("省实施意见" → the province's implementing opinions, "省数字经济方案" → the province's plan). A name that gives
    neither a place, a level nor a word of any title is no name (a "方法" is not a 法)."""
    norm = compact(to_simplified(asked_part(question)))
    found: list[Designation] = []
    offset = 0
    for member in _MEMBER.split(norm):
        at = norm.find(member, offset)
        offset = at + len(member)
        previous = 0
        for kind in _KIND_WORD.finditer(member):
            # the longest name before the kind that still means some document ("无锡在省实施意见" → "省实施意见")
            named: Designation | None = None
            for start in range(kind.start(), max(previous, kind.start() - DESIGNATION_CHARS) - 1, -1):
                if member[start] in _NOT_A_NAME_START:
                    continue
                documents = _documents_named(member[start : kind.end()], snapshot)
                if documents:
                    named = Designation(member[start : kind.end()], at + start, at + kind.end(), documents)
            if named is not None:
                found.append(named)
            previous = kind.end()
    return found


def coordinated(question: str, designations: Sequence[Designation]) -> bool:
    """Two of the names stand side by side, joined by 和/与/及/、 ("省方案和淄博计划…"): the question is asked
    of each."""
    norm = compact(to_simplified(asked_part(question)))
    return any(
        a.documents != b.documents and _COORDINATION.match(norm[a.end : b.start])
        for a, b in itertools.pairwise(designations)
    )


@dataclass(frozen=True)
class _Titled:
    doc_id: str
    title: str  # normalised
    places: frozenset[str]
    jurisdiction: str


_TITLES: dict[str, dict[str, list[_Titled]]] = {}


def _titles_by_kind(snapshot: IndexSnapshot) -> dict[str, list[_Titled]]:
    """The documents of one index version whose title is of each kind, titles normalised once per version (a
    question is resolved against hundreds of titles without normalising any of them again)."""
    cached = _TITLES.get(snapshot.version)
    if cached is not None:
        return cached
    by_kind: dict[str, list[_Titled]] = {}
    for doc_id, entry in snapshot.documents.items():
        summary = entry.get("summary", {})
        titled = _Titled(
            doc_id,
            compact(to_simplified(str(summary.get("title", "")))),
            frozenset(compact(p) for p in summary.get("places") or ()),
            str(summary.get("jurisdiction") or ""),
        )
        for kind in _KIND_NAMES:
            if kind in titled.title:
                by_kind.setdefault(kind, []).append(titled)
    _TITLES.clear()
    _TITLES[snapshot.version] = by_kind
    return by_kind


def _documents_named(name: str, snapshot: IndexSnapshot) -> frozenset[str]:
    kind = next((k for k in _KIND_NAMES if name.endswith(k)), "")
    candidates = _titles_by_kind(snapshot).get(kind, []) if kind else []
    if not candidates:
        return frozenset()
    analysis = analyze(name)
    places = {compact(p) for p in analysis.places}
    levels = analysis.scopes
    rest = name[: len(name) - len(kind)]
    for place in place_names(name):
        rest = rest.replace(compact(to_simplified(place)), "")
    words = {rest[i : i + 2] for i in range(len(rest) - 1)} - {"省里", "市里", "全省", "全市"}
    scored = {
        d.doc_id: sum(w in d.title for w in words)
        for d in candidates
        if (not places or d.places & places) and (not levels or d.jurisdiction in levels)
    }
    best = max(scored.values(), default=0)
    if not scored or (best == 0 and not places and not levels):
        return frozenset()
    return frozenset(d for d, score in scored.items() if score == best)


def named_document_groups(question: str, names: Sequence[Designation]) -> list[frozenset[str]]:
    """The documents of each name the question writes (`designated_documents`), in order, when it names two or
    more different ones side by side or asks of each ("省方案和苏州计划…", "…分别…"); otherwise none."""
    groups = list(dict.fromkeys(n.documents for n in names))
    return groups if len(groups) > 1 and (compares(question) or coordinated(question, names)) else []


def question_of_group(question: str, group: frozenset[str], names: Sequence[Designation]) -> str:
    """The question as asked of one group of the documents it names, which a filter then chooses: the other
    groups' names left out ("省实施意见和苏州计划对无锡分别…" asked of the opinions reads "省实施意见和对无锡
    分别…"); their words are not what this group's passages must contain."""
    others = [n for n in names if not n.documents & group]
    if not others:
        return question
    own = _own_clauses(question, group, names)
    if own is not None:
        return own
    text = question if all(n.text in question for n in others) else compact(to_simplified(question))
    for name in others:
        text = text.replace(name.text, "")
    return text


_COMMA_CLAUSE = re.compile(r"[^，,；;]+[，,；;]?")


def _own_clauses(question: str, group: frozenset[str], names: Sequence[Designation]) -> str | None:
    """When each name stands in a clause of its own ("A里去年新建几座，B里明年的目标呢，各为几座？"), the group's
    clauses and the clauses that name no document ("各为几座？"): the other clauses ask about the other
    documents (their years and figures are not this group's). None when the names share a clause."""
    norm = compact(to_simplified(question))
    clauses = _COMMA_CLAUSE.findall(norm)
    kept: list[str] = []
    mine = 0
    for clause in clauses:
        named = [n for n in names if n.text in clause]
        if any(n.documents & group for n in named) and any(not n.documents & group for n in named):
            return None  # both in one clause: the clause is about both
        if not named or any(n.documents & group for n in named):
            kept.append(clause)
            mine += bool(named)
    if not mine or len(kept) == len(clauses):
        return None
    return "".join(kept)
