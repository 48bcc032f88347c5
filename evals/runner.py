"""One eval run: every suite (retrieval, dev QA, multi-turn, the frozen test split, paraphrases) for every chosen
configuration (retrievers, answer modes), with one progress bar; and the deterministic snapshot of a run that
the baseline stores."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.service import AssistantService
from evals.datasets import (
    PARAPHRASE_DATASET,
    QA_DATASET,
    QA_TEST_DATASET,
    RETRIEVAL_DATASET,
    ParaphraseItem,
    QAItem,
    RetrievalItem,
    load_jsonl,
)
from evals.qa_eval import QA_HEADLINE, QAItemResult, by_type, evaluate_qa, mark_consistency, summarize
from evals.retrieval_eval import RETRIEVAL_HEADLINE, RETRIEVERS, RetrievalScores, evaluate_retrieval

SUITES = ("retrieval", "qa", "multiturn", "test", "paraphrase")
QA_SUITES = ("qa", "multiturn", "test", "paraphrase")
# paraphrases are broken down per style, the other QA suites per question type
BREAKDOWN = {"paraphrase": "style"}
SNAPSHOT_VERSION = 1


@dataclass
class EvalRun:
    retrieval: dict[str, RetrievalScores] = field(default_factory=dict)
    # answer mode -> results; `qa` holds single-question items, `multiturn` the items with turns
    qa: dict[str, list[QAItemResult]] = field(default_factory=dict)
    multiturn: dict[str, list[QAItemResult]] = field(default_factory=dict)
    # the frozen test split (single questions and conversations together, scored like qa) and paraphrases
    test: dict[str, list[QAItemResult]] = field(default_factory=dict)
    paraphrase: dict[str, list[QAItemResult]] = field(default_factory=dict)
    datasets: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # suites skipped and why
    seconds: float = 0.0
    judge: str | None = None
    judge_errors: int = 0

    def qa_suites(self) -> dict[str, dict[str, list[QAItemResult]]]:
        return {name: runs for name in QA_SUITES if (runs := getattr(self, name))}

    def dev(self, mode: str) -> list[QAItemResult]:
        """The dev items of one mode (single questions and conversations), to set beside the test split."""
        return self.qa.get(mode, []) + self.multiturn.get(mode, [])

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
            key = BREAKDOWN.get(suite, "type")
            out[suite] = {mode: by_type(results, key) for mode, results in runs.items()}
        return out


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _optional_dataset(run: EvalRun, suite: str, path: Path | None, model: type[QAItem]) -> list[Any]:
    """The items of an optional suite's dataset, or none with a note when the file is missing."""
    if path is None:
        return []
    if not path.is_file():
        run.notes.append(f"{suite}: {_relative(path)} not found; suite skipped")
        return []
    run.datasets[suite] = _relative(path)
    return load_jsonl(path, model)


def run_suites(
    service: AssistantService,
    *,
    suites: Sequence[str] = SUITES,
    retrievers: Sequence[str] = RETRIEVERS,
    modes: Sequence[str] = ("extractive",),
    retrieval_dataset: Path | None = RETRIEVAL_DATASET,
    qa_dataset: Path | None = QA_DATASET,
    test_dataset: Path | None = QA_TEST_DATASET,
    paraphrase_dataset: Path | None = PARAPHRASE_DATASET,
    judge: Any = None,
    show_progress: bool = True,
) -> EvalRun:
    started = time.perf_counter()
    run = EvalRun()
    retrieval_items: list[RetrievalItem] = []
    qa_items: list[QAItem] = []
    dev_items: list[QAItem] = []
    if "retrieval" in suites and retrieval_dataset is not None and retrievers:
        retrieval_items = load_jsonl(retrieval_dataset, RetrievalItem)
        run.datasets["retrieval"] = _relative(retrieval_dataset)
    wants_dev = {"qa", "multiturn"} & set(suites)
    if (wants_dev or "paraphrase" in suites) and qa_dataset is not None and modes:
        dev_items = load_jsonl(qa_dataset, QAItem)
    if wants_dev and dev_items:
        qa_items = [item for item in dev_items if ("multiturn" if item.multi_turn else "qa") in suites]
        run.datasets["qa"] = _relative(qa_dataset)  # type: ignore[arg-type]
    test_items: list[QAItem] = []
    paraphrase_items: list[ParaphraseItem] = []
    if modes:
        if "test" in suites:
            test_items = _optional_dataset(run, "test", test_dataset, QAItem)
        if "paraphrase" in suites:
            paraphrase_items = _optional_dataset(run, "paraphrase", paraphrase_dataset, ParaphraseItem)
    # consistency needs each paraphrased dev item answered in the same run: ask the ones the dev suites do not
    asked = {item.id for item in qa_items}
    wanted = {p.paraphrase_of for p in paraphrase_items}
    sources = [item for item in dev_items if item.id in wanted and item.id not in asked]
    if paraphrase_items and wanted - {item.id for item in dev_items}:
        missing = sorted(wanted - {item.id for item in dev_items})
        run.notes.append(
            f"paraphrase: {len(missing)} source id(s) not in the dev dataset, no consistency for them "
            f"({', '.join(missing[:5])}{'…' if len(missing) > 5 else ''})"
        )
    per_mode = (
        len(qa_items) + len(test_items) + len(paraphrase_items) + (len(sources) if paraphrase_items else 0)
    )
    total = len(retrieval_items) * len(retrievers) + per_mode * len(modes)
    with tqdm(total=total, desc="eval", unit="item", disable=not show_progress) as bar:
        if retrieval_items:
            for name in retrievers:
                bar.set_description(f"retrieval/{name}")
                run.retrieval.update(
                    evaluate_retrieval(
                        service.library, retrievers=[name], items=retrieval_items, progress=bar
                    )
                )
        for mode in modes:
            if qa_items:
                bar.set_description(f"qa/{mode}")
                results = evaluate_qa(service, mode=mode, items=qa_items, progress=bar, judge=judge)
                single = [r for r in results if not r.multi_turn]
                multi = [r for r in results if r.multi_turn]
                if single:
                    run.qa[mode] = single
                if multi:
                    run.multiturn[mode] = multi
            if test_items:
                bar.set_description(f"test/{mode}")
                run.test[mode] = evaluate_qa(service, mode=mode, items=test_items, progress=bar, judge=judge)
            if paraphrase_items:
                bar.set_description(f"paraphrase/{mode}")
                answered = {r.id: r for r in run.dev(mode)}
                if sources:  # asked for consistency only, not reported as a dev suite
                    answered.update(
                        {r.id: r for r in evaluate_qa(service, mode=mode, items=sources, progress=bar)}
                    )
                results = evaluate_qa(service, mode=mode, items=paraphrase_items, progress=bar, judge=judge)
                mark_consistency(results, answered)
                run.paraphrase[mode] = results
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
                "metrics": {
                    k: _round(v)
                    for k, v in summarize(results).items()
                    if k in ("n", *QA_HEADLINE, "consistency")
                },
                "items": {r.id: r.passed for r in results},
            }
            for mode, results in runs.items()
        }
    return {"version": SNAPSHOT_VERSION, "datasets": dict(sorted(run.datasets.items())), "suites": suites}
