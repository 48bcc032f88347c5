"""The relevance gate: decides, deterministically, whether the retrieved passages can answer the question.

Score = weighted share of the question's content terms found in the best passages (IDF weights), plus a
bonus for a strong dense match. The threshold is calibrated on the QA eval set
(`python -m evals.calibrate_gate`); the chosen value and its precision/recall are in the README."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.evidence import TermWeights, coverage, salient_terms
from retrieval.retriever import Passage

DEFAULT_THRESHOLD = 0.2
DENSE_BONUS_FROM = 0.88
DENSE_BONUS_SCALE = 4.0


@dataclass(frozen=True)
class GateDecision:
    answerable: bool
    score: float
    features: dict[str, float] = field(default_factory=dict)
    reason: str | None = None


class RelevanceGate:
    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold

    def features(
        self, question: str, passages: Sequence[Passage], weights: TermWeights, vocabulary: set[str]
    ) -> dict[str, float]:
        terms = salient_terms(question, weights, vocabulary)
        top = passages[:3]
        text = "\n".join(p.chunk.contextual_text for p in top)
        best_dense = max((p.dense_score or 0.0 for p in top), default=0.0)
        return {
            "coverage": coverage(terms, text),
            "top_coverage": coverage(terms, top[0].chunk.contextual_text) if top else 0.0,
            "dense": best_dense,
            "bm25": max((p.bm25_score for p in top), default=0.0),
            "terms": float(len(terms)),
        }

    def score(self, features: dict[str, float]) -> float:
        bonus = max(0.0, features["dense"] - DENSE_BONUS_FROM) * DENSE_BONUS_SCALE
        return features["coverage"] + bonus

    def decide(
        self, question: str, passages: Sequence[Passage], weights: TermWeights, vocabulary: set[str]
    ) -> GateDecision:
        if not passages:
            return GateDecision(False, 0.0, {}, "没有检索到相关条文")
        features = self.features(question, passages, weights, vocabulary)
        score = self.score(features)
        if score < self.threshold:
            return GateDecision(False, score, features, "检索到的条文与问题不相关")
        return GateDecision(True, score, features)
