"""The relevance gate: decides, deterministically, whether the retrieved passages can answer the question.

A logistic model over a few explainable features (how much of the question's content the passages contain,
dense similarity of the best passage and the best sentence above the question's baseline similarity to the
library, whether the question names a section of the document). Its weights and threshold are calibrated on the
QA eval set by `python -m evals.calibrate_gate`, which writes bot/data/gate.json; the README records the
calibration numbers."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from bot.answerers.extractive import strip_numbering
from bot.evidence import TermWeights, Unit, coverage, matching_text, salient_terms, units_of
from retrieval.normalize import compact
from retrieval.retriever import Passage

FEATURES = ("coverage", "top_coverage", "doc_coverage", "dense", "unit_dense", "label_match", "log_terms")


@dataclass(frozen=True)
class GateDecision:
    answerable: bool
    score: float
    features: dict[str, float] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class GateModel:
    """Standardised logistic regression: p = sigmoid(bias + Σ w·(x - mean)/scale)."""

    weights: dict[str, float]
    mean: dict[str, float]
    scale: dict[str, float]
    bias: float
    threshold: float

    @classmethod
    def load(cls) -> GateModel:
        data = json.loads(resources.files("bot").joinpath("data/gate.json").read_text(encoding="utf-8"))
        return cls(data["weights"], data["mean"], data["scale"], data["bias"], data["threshold"])

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(
            w * (features[name] - self.mean[name]) / (self.scale[name] or 1.0)
            for name, w in self.weights.items()
        )
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def label_match(question: str, passages: Sequence[Passage]) -> float:
    """1 when the question names a section (e.g. 基本原则, 保障措施) of one of the top passages."""
    asked = matching_text(question)
    for passage in passages:
        for part in passage.chunk.section_parts:
            label = compact(strip_numbering(part))
            if len(label) >= 3 and label in asked:
                return 1.0
    return 0.0


def gate_features(
    question: str,
    passages: Sequence[Passage],
    weights: TermWeights,
    vocabulary: set[str],
    document_texts: dict[str, str],
    similarity: Callable[[Sequence[Unit]], np.ndarray] | None = None,
    baseline: float = 0.0,
) -> dict[str, float]:
    """`baseline` is the question's mean dense similarity to the library at large (`SentenceSimilarity.baseline`):
    the dense features are how much more similar the best passage and sentence are than that. An English question
    is less similar to every Chinese passage than a Chinese one is (e5's cosines across languages sit lower), and an
    on-topic question more similar to all of them than an off-topic one; the difference is what says the passages
    are about it."""
    terms = salient_terms(question, weights, vocabulary, english_readings=True)
    top = list(passages[:3])
    units = [u for p in top for u in units_of(p.chunk) if not u.is_heading]
    unit_dense = float(similarity(units).max()) - baseline if similarity is not None and units else 0.0
    docs = dict.fromkeys(p.chunk.doc_id for p in top)
    return {
        "coverage": coverage(terms, "\n".join(p.chunk.contextual_text for p in top)),
        "top_coverage": coverage(terms, top[0].chunk.contextual_text) if top else 0.0,
        "doc_coverage": coverage(terms, "\n".join(document_texts.get(d, "") for d in docs)),
        "dense": max((p.dense_score - baseline for p in top if p.dense_score is not None), default=0.0),
        "unit_dense": unit_dense,
        "label_match": label_match(question, top),
        "log_terms": math.log1p(len(terms)),
    }


class RelevanceGate:
    def __init__(self, model: GateModel | None = None) -> None:
        self.model = model or GateModel.load()

    def decide(self, features: dict[str, Any]) -> GateDecision:
        probability = self.model.probability(features)
        if probability < self.model.threshold:
            return GateDecision(False, probability, features, "检索到的条文与问题不相关")
        return GateDecision(True, probability, features)
