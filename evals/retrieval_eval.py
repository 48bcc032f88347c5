"""Retrieval eval: hit@1, hit@5 and MRR for bm25, dense, hybrid and the tutorial baseline, side by side."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.datasets import RETRIEVAL_DATASET, RetrievalItem, load_jsonl
from evals.metrics import first_hit_rank, percentile
from retrieval.baseline import TutorialBaseline
from retrieval.chunking import Chunk
from retrieval.library import PolicyLibrary

RETRIEVERS = ("bm25", "dense", "hybrid", "baseline")
RETRIEVAL_HEADLINE = ("hit@1", "hit@5", "mrr")


@dataclass
class RetrievalItemResult:
    id: str
    type: str
    query: str
    rank: int | None
    retrieved: list[tuple[str, str]]
    latency_ms: float
    gold: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RetrievalScores:
    retriever: str
    items: list[RetrievalItemResult] = field(default_factory=list)

    def metrics(self, items: Sequence[RetrievalItemResult] | None = None) -> dict[str, float]:
        rows = self.items if items is None else items
        n = len(rows) or 1
        return {
            "n": len(rows),
            "hit@1": sum(1 for r in rows if r.rank == 1) / n,
            "hit@5": sum(1 for r in rows if r.rank is not None and r.rank <= 5) / n,
            "mrr": sum(1 / r.rank for r in rows if r.rank) / n,
            "p50_ms": percentile([r.latency_ms for r in rows], 50),
            "p95_ms": percentile([r.latency_ms for r in rows], 95),
        }

    def by_type(self) -> dict[str, dict[str, float]]:
        groups: dict[str, list[RetrievalItemResult]] = defaultdict(list)
        for row in self.items:
            groups[row.type].append(row)
        return {t: self.metrics(rows) for t, rows in sorted(groups.items())}


def _section_of_span(chunks: Sequence[Chunk], doc_id: str, start: int, end: int) -> str:
    """The structural section a baseline chunk overlaps most (so both are scored on the same gold)."""
    best, best_overlap = "", -1
    for chunk in chunks:
        if chunk.doc_id != doc_id:
            continue
        overlap = min(end, chunk.end) - max(start, chunk.start)
        if overlap > best_overlap:
            best, best_overlap = chunk.section_path, overlap
    return best


def evaluate_retrieval(
    library: PolicyLibrary,
    dataset: Path = RETRIEVAL_DATASET,
    retrievers: Sequence[str] = RETRIEVERS,
    k: int = 5,
    show_progress: bool = True,
    *,
    items: Sequence[RetrievalItem] | None = None,
    progress: tqdm | None = None,
) -> dict[str, RetrievalScores]:
    if items is None:
        items = load_jsonl(dataset, RetrievalItem)
    snapshot = library.live.current()
    results: dict[str, RetrievalScores] = {}
    baseline = None
    if "baseline" in retrievers:
        documents, _ = library.load_documents()
        baseline = TutorialBaseline(documents, library.embeddings)
    for name in retrievers:
        scores = RetrievalScores(name)
        bar = progress or tqdm(
            total=len(items), desc=f"retrieval/{name}", disable=not show_progress, leave=False
        )
        for item in items:
            started = time.perf_counter()
            if name == "baseline":
                assert baseline is not None
                retrieved = [
                    (h.doc_id, _section_of_span(snapshot.chunks, h.doc_id, h.start, h.end))
                    for h in baseline.search(item.query, k)
                ]
            else:
                found = library.search(item.query, k=k, method=name)  # type: ignore[arg-type]
                retrieved = [(p.chunk.doc_id, p.chunk.section_path) for p in found.passages]
            latency = (time.perf_counter() - started) * 1000
            gold = [(g.doc_id, g.section_path) for g in item.gold]
            scores.items.append(
                RetrievalItemResult(
                    item.id, item.type, item.query, first_hit_rank(retrieved, gold), retrieved, latency, gold
                )
            )
            bar.update(1)
        if progress is None:
            bar.close()
        results[name] = scores
    return results


def retrieval_table(results: dict[str, RetrievalScores]) -> str:
    lines = ["| retriever | n | hit@1 | hit@5 | MRR | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|"]
    for name, scores in results.items():
        m = scores.metrics()
        lines.append(
            f"| {name} | {m['n']} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['mrr']:.3f} | "
            f"{m['p50_ms']:.1f} | {m['p95_ms']:.1f} |"
        )
    types = sorted({t for s in results.values() for t in s.by_type()})
    lines += [
        "",
        "MRR by query type:",
        "",
        "| type | " + " | ".join(results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for t in types:
        cells = [f"{s.by_type().get(t, {}).get('mrr', 0):.3f}" for s in results.values()]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def retrieval_summary(results: dict[str, RetrievalScores]) -> dict[str, Any]:
    return {
        name: {
            "overall": scores.metrics(),
            "by_type": scores.by_type(),
            "misses": [
                {"id": r.id, "query": r.query, "rank": r.rank, "retrieved": r.retrieved[:3]}
                for r in scores.items
                if r.rank != 1
            ],
        }
        for name, scores in results.items()
    }
