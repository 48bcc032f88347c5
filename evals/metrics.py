"""Metric functions shared by the eval runners (pure, deterministic)."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.normalize import compact


def section_matches(doc_id: str, section_path: str, gold_doc: str, gold_path: str) -> bool:
    """A retrieved section hits when it is the gold section or lies inside it."""
    if doc_id != gold_doc:
        return False
    got, want = compact(section_path), compact(gold_path)
    return got == want or got.startswith(want + "›")


def first_hit_rank(retrieved: Sequence[tuple[str, str]], gold: Sequence[tuple[str, str]]) -> int | None:
    """1-based rank of the first retrieved (doc_id, section_path) that matches any gold section."""
    for rank, (doc_id, path) in enumerate(retrieved, 1):
        if any(section_matches(doc_id, path, g_doc, g_path) for g_doc, g_path in gold):
            return rank
    return None


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def safe_ratio(numerator: float, denominator: float, empty: float = 1.0) -> float:
    return numerator / denominator if denominator else empty


def contains_any(text: str, alternatives: Sequence[str]) -> bool:
    """Whether the (compacted) text contains one of the alternatives (compacted the same way)."""
    body = compact(text)
    return any(compact(alt) in body for alt in alternatives)


def overlaps(passage: str, quote: str, run: int = 8) -> bool:
    """A passage holds a quote when it contains it, or shares a run of `run` characters with it
    (quotes may straddle two chunks). Both arguments are compacted first."""
    p, q = compact(passage), compact(quote)
    if not q:
        return False
    if q in p:
        return True
    return any(q[i : i + run] in p for i in range(0, max(1, len(q) - run + 1), max(1, run // 2)))


def mean(values: Sequence[float], empty: float = 1.0) -> float:
    return sum(values) / len(values) if values else empty
