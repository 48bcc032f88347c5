"""The reference-answer format (JSONL: question, reference answer, optional id / doc_id / answerable, any other
fields kept) and its scores: strict containment, character ROUGE-L F1, refusals, latency, and the same two scores
for the top passage `/v1/search` returns for the question (a baseline column)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from evals.datasets import DatasetError, load_jsonl
from evals.metrics import contains_reference, percentile, rouge_l_f1, safe_ratio

# fields whose value names a question category, in order of preference, for the per-category breakdown
GROUP_FIELDS = ("question_type", "type", "category")
VERBATIM_FIELD = "answer_verbatim_in_corpus"


class ReferenceItem(BaseModel):
    """One question with its reference answer; unknown fields are kept (`extra`) and reported per item."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    doc_id: str | None = None
    answerable: bool = True

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def load_reference(path: Path, limit: int | None = None) -> list[ReferenceItem]:
    """The items of a reference-answer JSONL file (the first `limit`), or a DatasetError listing every bad
    line with its number. An item without `id` gets `line<N>`."""
    items = load_jsonl(path, ReferenceItem, default_ids=True)
    if not items:
        raise DatasetError(path, [f"{path}: the dataset is empty"])
    return items[:limit] if limit else items


@dataclass
class ReferenceResult:
    id: str
    question: str
    reference: str
    answerable: bool
    answer: str
    refused: bool
    refusal_reason: str | None
    contained: bool
    rouge_l: float
    latency_ms: float
    top_passage: str
    top_contained: bool
    top_rouge_l: float
    citations: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)  # the item's extra fields (question_type, …)


def score_reference(item: ReferenceItem, answer: Any, latency_ms: float, top_passage: str) -> ReferenceResult:
    """A refused answer scores 0 on both checks (the refusal sentence is not an answer)."""
    refused = bool(answer.refused)
    return ReferenceResult(
        id=item.id,
        question=item.question,
        reference=item.answer,
        answerable=item.answerable,
        answer=answer.answer,
        refused=refused,
        refusal_reason=answer.refusal_reason,
        contained=not refused and contains_reference(answer.answer, item.answer),
        rouge_l=0.0 if refused else rouge_l_f1(item.answer, answer.answer),
        latency_ms=latency_ms,
        top_passage=top_passage,
        top_contained=contains_reference(top_passage, item.answer),
        top_rouge_l=rouge_l_f1(item.answer, top_passage),
        citations=[
            {k: c[k] for k in ("n", "doc_id", "section_path", "quote")}
            for c in (x.model_dump() for x in answer.citations)
        ],
        fields=item.extra,
    )


def ask_reference(
    service: Any,
    items: Sequence[ReferenceItem],
    mode: str | None = None,
    show_progress: bool = True,
    desc: str = "questions",
) -> list[ReferenceResult]:
    """Ask every question through the service (as /v1/ask does) and look up the top passage the way
    /v1/search does (`library.search(q, k)`); only the answer is timed."""
    results = []
    for item in tqdm(items, desc=desc, unit="q", disable=not show_progress):
        started = time.perf_counter()
        answer = service.ask(item.question, mode=mode)
        latency = (time.perf_counter() - started) * 1000
        passages = service.library.search(item.question, service.top_k).passages
        top = passages[0].chunk.text if passages else ""
        results.append(score_reference(item, answer, latency, top))
    return results


def summarize_reference(results: Sequence[ReferenceResult]) -> dict[str, Any]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    n = len(answerable)
    latencies = [r.latency_ms for r in results]
    summary: dict[str, Any] = {
        "n": len(results),
        "contained": safe_ratio(sum(r.contained for r in answerable), n, 0.0),
        "rouge_l": safe_ratio(sum(r.rouge_l for r in answerable), n, 0.0),
        "refusal_rate": safe_ratio(sum(r.refused for r in answerable), n, 0.0),
        "top_passage_contained": safe_ratio(sum(r.top_contained for r in answerable), n, 0.0),
        "top_passage_rouge_l": safe_ratio(sum(r.top_rouge_l for r in answerable), n, 0.0),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
    }
    if unanswerable:
        summary["unanswerable_refused"] = sum(r.refused for r in unanswerable) / len(unanswerable)
    return summary


def group_field(results: Sequence[ReferenceResult]) -> str | None:
    """The first of GROUP_FIELDS that items carry, if any."""
    return next((f for f in GROUP_FIELDS if any(f in r.fields for r in results)), None)


def breakdown(results: Sequence[ReferenceResult]) -> dict[str, dict[str, dict[str, Any]]]:
    """Summaries per value of the category field, and over the items whose reference is verbatim in the
    corpus (`answer_verbatim_in_corpus`) and those whose is not, when the items say."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    name = group_field(results)
    if name:
        groups: dict[str, list[ReferenceResult]] = defaultdict(list)
        for r in results:
            groups[str(r.fields.get(name, "–"))].append(r)
        out[name] = {k: summarize_reference(v) for k, v in sorted(groups.items())}
    if any(VERBATIM_FIELD in r.fields for r in results):
        split: dict[str, list[ReferenceResult]] = defaultdict(list)
        for r in results:
            split[str(r.fields.get(VERBATIM_FIELD)).lower()].append(r)
        out[VERBATIM_FIELD] = {k: summarize_reference(v) for k, v in sorted(split.items())}
    return out


def results_as_dicts(results: Sequence[ReferenceResult]) -> list[dict[str, Any]]:
    return [{**asdict(r), "latency_ms": round(r.latency_ms, 3)} for r in results]
