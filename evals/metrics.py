"""Metric functions shared by the eval runners (pure, deterministic)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from retrieval.normalize import compact

_MARKER = re.compile(r"\[\d+\]")
# the answerer's source line ("依据《标题》（文号）：") frames an answer; it is not part of what it says
_SOURCE_LINE = re.compile(r"^依据《[^\n]*》[^\n]*：\s*$", re.M)


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


def answer_text(answer: str) -> str:
    """What an answer says: without its `[n]` markers and its source lines."""
    return _MARKER.sub("", _SOURCE_LINE.sub("", answer))


def reference_form(text: str) -> str:
    """`compact()` (NFKC width folding, traditional → simplified, no whitespace, lower case) and no
    punctuation: the form reference answers and answers are compared in."""
    return "".join(ch for ch in compact(text) if not unicodedata.category(ch).startswith("P"))


def contains_reference(answer: str, reference: str) -> bool:
    """Strict check: the normalised reference is a substring of the normalised answer text."""
    ref = reference_form(reference)
    return bool(ref) and ref in reference_form(answer_text(answer))


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence of two strings (one row of the DP table at a time)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0]
        for j, other in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if ch == other else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l_f1(reference: str, candidate: str) -> float:
    """Character ROUGE-L F1 (β = 1) of a candidate against a reference, both in `reference_form`.
    The candidate is taken as an answer text (`[n]` markers and source lines removed)."""
    ref, cand = reference_form(reference), reference_form(answer_text(candidate))
    if not ref or not cand:
        return 0.0
    lcs = lcs_length(ref, cand)
    if not lcs:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)
