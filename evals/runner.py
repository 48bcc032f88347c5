"""One eval run: every suite (retrieval, QA, multi-turn) for every chosen configuration (retrievers, answer
modes), with one progress bar; and the deterministic snapshot of a run that the baseline stores."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.service import AssistantService
from evals.datasets import QA_DATASET, RETRIEVAL_DATASET, QAItem, RetrievalItem, load_jsonl
from evals.qa_eval import QA_HEADLINE, QAItemResult, by_type, evaluate_qa, summarize
from evals.retrieval_eval import RETRIEVAL_HEADLINE, RETRIEVERS, RetrievalScores, evaluate_retrieval

SUITES = ("retrieval", "qa", "multiturn")
SNAPSHOT_VERSION = 1


@dataclass
class EvalRun:
    retrieval: dict[str, RetrievalScores] = field(default_factory=dict)
    # answer mode -> results; `qa` holds single-question items, `multiturn` the items with turns
    qa: dict[str, list[QAItemResult]] = field(default_factory=dict)
    multiturn: dict[str, list[QAItemResult]] = field(default_factory=dict)
    datasets: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    judge: str | None = None
    judge_errors: int = 0

    def qa_suites(self) -> dict[str, dict[str, list[QAItemResult]]]:
        return {name: runs for name, runs in (("qa", self.qa), ("multiturn", self.multiturn)) if runs}

    def metrics(self) -> dict[str, dict[str, dict[str, Any]]]:
        """suite -> configuration -> overall metrics (with latency)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        if self.retrieval:
            out["retrieval"] = {name: s.metrics() for name, s in self.retrieval.items()}
        for suite, runs in self.qa_suites().items():
            out[suite] = {mode: summarize(results) for mode, results in runs.items()}
        return out

    def by_type(self) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
        """suite -> configuration -> type -> metrics."""
        out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        if self.retrieval:
            out["retrieval"] = {name: s.by_type() for name, s in self.retrieval.items()}
        for suite, runs in self.qa_suites().items():
            out[suite] = {mode: by_type(results) for mode, results in runs.items()}
        return out


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_suites(
    service: AssistantService,
    *,
    suites: Sequence[str] = SUITES,
    retrievers: Sequence[str] = RETRIEVERS,
    modes: Sequence[str] = ("extractive",),
    retrieval_dataset: Path | None = RETRIEVAL_DATASET,
    qa_dataset: Path | None = QA_DATASET,
    judge: Any = None,
    show_progress: bool = True,
) -> EvalRun:
    started = time.perf_counter()
    run = EvalRun()
    retrieval_items: list[RetrievalItem] = []
    qa_items: list[QAItem] = []
    if "retrieval" in suites and retrieval_dataset is not None and retrievers:
        retrieval_items = load_jsonl(retrieval_dataset, RetrievalItem)
        run.datasets["retrieval"] = _relative(retrieval_dataset)
    if {"qa", "multiturn"} & set(suites) and qa_dataset is not None and modes:
        qa_items = [
            item
            for item in load_jsonl(qa_dataset, QAItem)
            if ("multiturn" if item.multi_turn else "qa") in suites
        ]
        run.datasets["qa"] = _relative(qa_dataset)
    total = len(retrieval_items) * len(retrievers) + len(qa_items) * len(modes)
    with tqdm(total=total, desc="eval", unit="item", disable=not show_progress) as bar:
        if retrieval_items:
            for name in retrievers:
                bar.set_description(f"retrieval/{name}")
                run.retrieval.update(
                    evaluate_retrieval(
                        service.library, retrievers=[name], items=retrieval_items, progress=bar
                    )
                )
        for mode in modes if qa_items else ():
            bar.set_description(f"qa/{mode}")
            results = evaluate_qa(service, mode=mode, items=qa_items, progress=bar, judge=judge)
            single = [r for r in results if not r.multi_turn]
            multi = [r for r in results if r.multi_turn]
            if single:
                run.qa[mode] = single
            if multi:
                run.multiturn[mode] = multi
    if judge is not None:
        run.judge = type(judge).__name__
        run.judge_errors = getattr(judge, "errors", 0)
    run.seconds = time.perf_counter() - started
    return run


def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def snapshot(run: EvalRun) -> dict[str, Any]:
    """The deterministic part of a run: headline metrics and per-item outcomes (no latency, no judge).
    This is what evals/baseline.json holds and what --compare compares."""
    suites: dict[str, Any] = {}
    if run.retrieval:
        suites["retrieval"] = {
            name: {
                "metrics": {
                    k: _round(v) for k, v in scores.metrics().items() if k in ("n", *RETRIEVAL_HEADLINE)
                },
                "items": {r.id: r.rank for r in scores.items},
            }
            for name, scores in run.retrieval.items()
        }
    for suite, runs in run.qa_suites().items():
        suites[suite] = {
            mode: {
                "metrics": {k: _round(v) for k, v in summarize(results).items() if k in ("n", *QA_HEADLINE)},
                "items": {r.id: r.passed for r in results},
            }
            for mode, results in runs.items()
        }
    return {"version": SNAPSHOT_VERSION, "datasets": dict(sorted(run.datasets.items())), "suites": suites}
