"""Hybrid retrieval: dense (Chroma) and BM25 fused by weighted reciprocal-rank fusion.

RRF needs no score calibration between the two very different scales (BM25 is unbounded, e5 cosines are
compressed into 0.8–0.95) and was the best of the fusions tried on the retrieval eval (see README)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.chunking import Chunk
from retrieval.index import IndexSnapshot, LiveIndex
from retrieval.store import ChromaStore

Method = Literal["hybrid", "bm25", "dense"]
METHODS: tuple[Method, ...] = ("hybrid", "bm25", "dense")
RRF_K = 5
DEGRADED_NOTICE = "向量检索暂不可用，本次仅使用关键词检索（BM25），结果可能不够完整。"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the evidence behind it."""

    chunk: Chunk
    score: float
    bm25_score: float = 0.0
    dense_score: float | None = None
    bm25_rank: int | None = None
    dense_rank: int | None = None

    def as_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "doc_id": c.doc_id,
            "title": c.title,
            "doc_number": c.doc_number,
            "section_path": c.section_path,
            "text": c.text,
            "score": round(self.score, 6),
            "chunk_id": c.chunk_id,
            "start": c.start,
            "end": c.end,
            "bm25_score": round(self.bm25_score, 4),
            "dense_score": None if self.dense_score is None else round(self.dense_score, 4),
        }


@dataclass
class SearchResult:
    passages: list[Passage]
    index_version: str
    degraded: bool = False
    notices: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


def _matches(chunk: Chunk, filters: Mapping[str, Any] | None) -> bool:
    if not filters:
        return True
    for key, wanted in filters.items():
        value = getattr(chunk, key, None)
        allowed = wanted if isinstance(wanted, list | tuple | set) else [wanted]
        if value not in allowed:
            return False
    return True


def _chroma_where(filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not filters:
        return None
    clauses = []
    for key, wanted in filters.items():
        values = list(wanted) if isinstance(wanted, list | tuple | set) else [wanted]
        clauses.append({key: {"$in": values}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


FILTER_KEYS = ("doc_id", "issuer")


class PolicySearcher:
    """Runs a query against the live index with one of the retrieval methods."""

    def __init__(
        self,
        index: LiveIndex,
        store: ChromaStore,
        *,
        dense_weight: float = 1.0,
        bm25_weight: float = 2.0,
        candidates: int = 30,
        rrf_k: int = RRF_K,
    ) -> None:
        self.rrf_k = rrf_k
        self.index = index
        self.store = store
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.candidates = candidates

    def search(
        self, query: str, k: int = 5, method: Method = "hybrid", filters: Mapping[str, Any] | None = None
    ) -> SearchResult:
        if method not in METHODS:
            raise ValueError(f"unknown retrieval method {method!r}; choose one of {METHODS}")
        unknown = set(filters or {}) - set(FILTER_KEYS)
        if unknown:
            raise ValueError(f"unknown filter field(s) {sorted(unknown)}; filters support {FILTER_KEYS}")
        snapshot = self.index.current()
        timings: dict[str, float] = {}
        result = SearchResult(passages=[], index_version=snapshot.version, timings_ms=timings)
        allowed = np.array(
            [_matches(c, filters) and not c.is_heading_only for c in snapshot.chunks], dtype=bool
        )

        t0 = time.perf_counter()
        bm25_scores = snapshot.bm25.scores(query) if snapshot.chunks else np.zeros(0)
        timings["bm25"] = (time.perf_counter() - t0) * 1000
        bm25_order = [
            int(i) for i in np.argsort(-bm25_scores, kind="stable") if allowed[i] and bm25_scores[i] > 0
        ]
        bm25_rank = {i: r for r, i in enumerate(bm25_order[: self.candidates])}

        dense: dict[int, float] = {}
        dense_rank: dict[int, int] = {}
        if method in ("hybrid", "dense"):
            try:
                dense = self._dense(snapshot, query, filters, timings)
            except Exception:
                if method == "dense":
                    raise
                result.degraded = True
                result.notices.append(DEGRADED_NOTICE)
                self.store.reset_client()
            # equal (rounded) similarities are ordered by position in the index, never by Chroma's return order
            dense_rank = {i: r for r, i in enumerate(sorted(dense, key=lambda i: (-dense[i], i)))}

        t0 = time.perf_counter()
        if method == "bm25" or (method == "hybrid" and result.degraded):
            fused = {i: float(bm25_scores[i]) for i in bm25_rank}
        elif method == "dense":
            fused = dict(dense)
        else:
            fused = {}
            for i, r in bm25_rank.items():
                fused[i] = fused.get(i, 0.0) + self.bm25_weight / (self.rrf_k + r + 1)
            for i, r in dense_rank.items():
                fused[i] = fused.get(i, 0.0) + self.dense_weight / (self.rrf_k + r + 1)
        best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        result.passages = [
            Passage(
                chunk=snapshot.chunks[i],
                score=fused[i],
                bm25_score=float(bm25_scores[i]) if len(bm25_scores) else 0.0,
                dense_score=dense.get(i),
                bm25_rank=bm25_rank.get(i),
                dense_rank=dense_rank.get(i),
            )
            for i in best
        ]
        timings["fusion"] = (time.perf_counter() - t0) * 1000
        return result

    def _dense(
        self,
        snapshot: IndexSnapshot,
        query: str,
        filters: Mapping[str, Any] | None,
        timings: dict[str, float],
    ) -> dict[int, float]:
        t0 = time.perf_counter()
        vector = self.store.embeddings.embed_query(query)
        timings["embed"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        hits = self.store.query(snapshot.version, vector, self.candidates, _chroma_where(filters))
        timings["chroma"] = (time.perf_counter() - t0) * 1000
        found = {snapshot.chunk_index[cid]: score for cid, score in hits if cid in snapshot.chunk_index}
        return {i: score for i, score in found.items() if not snapshot.chunks[i].is_heading_only}


class HybridRetriever(BaseRetriever):
    """LangChain view of the searcher: Documents carry the chunk metadata plus scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: PolicySearcher
    k: int = 5
    method: Method = "hybrid"
    filters: dict[str, Any] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        result = self.searcher.search(query, k=self.k, method=self.method, filters=self.filters)
        documents = []
        for passage in result.passages:
            metadata = passage.chunk.metadata()
            metadata.update(
                score=passage.score,
                bm25_score=passage.bm25_score,
                dense_score=passage.dense_score,
                degraded=result.degraded,
                index_version=result.index_version,
            )
            documents.append(
                Document(page_content=passage.chunk.text, metadata=metadata, id=passage.chunk.chunk_id)
            )
        return documents
