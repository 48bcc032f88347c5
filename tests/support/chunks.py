"""A chunk written by a test, with only what the test cares about: the others are empty."""

from __future__ import annotations

from retrieval.chunking import Chunk


def chunk(
    text: str, *, n: int = 0, doc_id: str = "d", title: str = "计划", section: tuple[str, ...] = ()
) -> Chunk:
    return Chunk(
        chunk_id=f"c{n}",
        doc_id=doc_id,
        title=title,
        doc_number="",
        issuer="",
        published="",
        period="",
        completeness="",
        section_parts=section,
        start=0,
        end=len(text),
        text=text,
        token_count=len(text),
        ordinal=n,
    )
