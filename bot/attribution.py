"""Which documents a question is about, from the places and levels the library's documents declare.

A question that names one place the library knows ("苏州…", "Suzhou…") is answered only from that place's documents;
one that names no place but a level ("全省…", "省里…") from the documents of that level; one that names two known
places (a comparison) or none is not restricted. A place right before a kind of document ("苏州计划", "江苏省文件")
designates the document and outranks a place the question only talks about ("苏州计划对江苏园区的带动作用？" is about
the Suzhou document). Nothing here names a place: they come from each document (front matter or issuer/title)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.question import QuestionAnalysis
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
