"""Calibrates the relevance gate on the QA eval set and writes bot/data/gate.json.

    .venv/bin/python -m evals.calibrate_gate [--dataset PATH] [--dry-run]

Features are computed by the same chain steps that answer (condense → retrieve → features) for every
first-turn question; a standardised L2-regularised logistic regression is fitted with plain numpy, and the
threshold is the one that maximises min(refusal precision, refusal recall) on leave-one-out predictions,
which are also what is reported (not the fit on the same items)."""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

import numpy as np

from bot.chain import ChainState, refusal_text
from bot.config import Settings
from bot.gate import FEATURES, GateDecision, GateModel, RelevanceGate
from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from evals.datasets import QA_DATASET, QAItem, load_jsonl
from evals.qa_eval import score_item, summarize

GATE_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "gate.json"


def load_items(datasets: list[Path]) -> list[QAItem]:
    return [item for dataset in datasets for item in load_jsonl(dataset, QAItem)]


def collect(service: AssistantService, items: list[QAItem]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    chain = service.chain
    rows, labels, ids = [], [], []
    for item in items:
        if item.turns:
            continue
        state = chain.retrieve(chain.condense(ChainState(question=item.question)))
        analysis = state.analysis
        assert analysis is not None and state.snapshot is not None
        if analysis.metadata_fields or not state.passages:
            continue  # decided by rules, not by the model
        features = chain.gate_features(state)
        rows.append([features[name] for name in FEATURES])
        labels.append(1.0 if item.answerable else 0.0)
        ids.append(item.id)
    return np.array(rows), np.array(labels), ids


def fit(
    x: np.ndarray, y: np.ndarray, l2: float = 0.3, steps: int = 4000, rate: float = 0.3
) -> tuple[np.ndarray, float]:
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        w -= rate * ((x.T @ (p - y)) / len(y) + l2 * w / len(y))
        b -= rate * float(np.mean(p - y))
    return w, b


def refusal_scores(probabilities: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float]:
    refused = probabilities < threshold
    should = y == 0
    precision = (refused & should).sum() / max(1, refused.sum())
    recall = (refused & should).sum() / max(1, should.sum())
    return float(precision), float(recall)


class _OpenGate(RelevanceGate):
    """Always answers, but remembers the probability it would have given (for the threshold sweep)."""

    last = 1.0

    def decide(self, features: dict[str, float]) -> GateDecision:
        decision = super().decide(features)
        self.last = decision.score
        return GateDecision(True, decision.score, features)


def sweep_thresholds(
    service: AssistantService, model: GateModel, items: list[QAItem]
) -> tuple[float, dict[str, float]]:
    """End to end: the answer each item gets with the gate open, its gate probability, and the refusal it
    would get instead; the threshold is the one with the best accuracy among those whose refusal
    precision and recall are both highest (min of the two)."""
    gate = _OpenGate(model)
    service.chain.gate = gate
    rows = []
    snapshot = service.library.live.current()
    for item in items:
        session = f"calibrate-{item.id}" if item.turns else None
        gate.last = 1.0
        answer = None
        for turn in item.conversation:
            answer = service.ask(turn, session_id=session)
        assert answer is not None
        refused = answer.model_copy(
            update={
                "answer": refusal_text(snapshot),
                "refused": True,
                "citations": [],
                "refusal_reason": "gate",
            }
        )
        rows.append(
            (gate.last, score_item(item, answer, 0.0, snapshot), score_item(item, refused, 0.0, snapshot))
        )
        if session:
            service.reset(session)
    results = {}
    for threshold in np.linspace(0.05, 0.8, 76):
        chosen = [refused if p < threshold else opened for p, opened, refused in rows]
        results[float(threshold)] = summarize(chosen)
    best = max(
        results,
        key=lambda t: (
            round(
                min(results[t]["refusal_precision"], results[t]["refusal_recall"]) + results[t]["accuracy"], 4
            ),
            -t,
        ),
    )
    return best, results[best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dataset", type=Path, action="append", help=f"repeatable; default {QA_DATASET.name}"
    )
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    sessions = SqlSessionStore(Path(tempfile.mkdtemp()) / "s.sqlite3")
    # no answer cache: the threshold sweep reads the gate of every item's own run
    service = AssistantService.from_settings(Settings(), sessions=sessions, answer_cache_size=0)
    service.library.ensure_built()
    service.warm_up()
    items = load_items(args.dataset or [QA_DATASET])
    x_raw, y, ids = collect(service, items)
    mean, scale = x_raw.mean(axis=0), x_raw.std(axis=0) + 1e-9
    x = (x_raw - mean) / scale
    loo = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        w, b = fit(x[keep], y[keep])
        loo[i] = 1.0 / (1.0 + math.exp(-(x[i] @ w + b)))
    thresholds = np.linspace(0.05, 0.95, 91)
    best = max(thresholds, key=lambda t: (min(refusal_scores(loo, y, t)), -abs(t - 0.5)))
    precision, recall = refusal_scores(loo, y, best)
    w, b = fit(x, y)
    print(
        f"{len(y)} items ({int((y == 0).sum())} to refuse); leave-one-out at threshold {best:.2f}: "
        f"refusal precision {precision:.3f}, recall {recall:.3f}"
    )
    for name, weight in zip(FEATURES, w, strict=True):
        print(f"  {name:14s} {weight:+.3f}")
    wrong = [
        (ids[i], round(float(loo[i]), 3), int(y[i])) for i in range(len(y)) if (loo[i] >= best) != bool(y[i])
    ]
    print("gate alone, misjudged (id, p, answerable):", wrong)
    model = GateModel(
        dict(zip(FEATURES, map(float, w), strict=True)),
        dict(zip(FEATURES, map(float, mean), strict=True)),
        dict(zip(FEATURES, map(float, scale), strict=True)),
        float(b),
        float(best),
    )
    best, end_to_end = sweep_thresholds(service, model, items)
    print(
        f"end to end (gate + answer rules) at threshold {best:.2f}: "
        + ", ".join(
            f"{k} {v:.3f}" for k, v in end_to_end.items() if isinstance(v, float) and not k.endswith("_ms")
        )
    )
    if not args.dry_run:
        GATE_FILE.write_text(
            json.dumps(
                {
                    "weights": dict(zip(FEATURES, map(float, w), strict=True)),
                    "mean": dict(zip(FEATURES, map(float, mean), strict=True)),
                    "scale": dict(zip(FEATURES, map(float, scale), strict=True)),
                    "bias": float(b),
                    "threshold": float(best),
                    "calibration": {
                        "items": len(y),
                        "gate_only_loo_refusal_precision": precision,
                        "gate_only_loo_refusal_recall": recall,
                        "end_to_end": {k: v for k, v in end_to_end.items() if not k.endswith("_ms")},
                    },
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        print(f"wrote {GATE_FILE}")


if __name__ == "__main__":
    main()
