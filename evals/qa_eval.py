"""QA eval: answer accuracy, refusal precision/recall, citation precision, numeric faithfulness, latency."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.answer import Answer
from bot.service import AssistantService
from bot.verify import facts_in
from evals.datasets import QA_DATASET, QAItem, load_jsonl
from evals.metrics import percentile, safe_ratio
from retrieval.index import IndexSnapshot
from retrieval.normalize import compact


@dataclass
class QAItemResult:
    id: str
    type: str
    question: str
    answerable: bool
    refused: bool
    passed: bool
    reasons: list[str]
    answer: str
    citations: list[dict[str, Any]]
    citation_hits: int
    citations_total: int
    facts_total: int
    facts_supported: int
    latency_ms: float
    expect_all: list[list[str]] = field(default_factory=list)


def _passage_text(snapshot: IndexSnapshot | None, doc_id: str, start: int) -> str:
    if snapshot is None:
        return ""
    for chunk in snapshot.chunks_of(doc_id):
        if chunk.start <= start < chunk.end:
            return chunk.text
    return ""


def score_item(
    item: QAItem, answer: Answer, latency_ms: float, snapshot: IndexSnapshot | None = None
) -> QAItemResult:
    text = compact(answer.answer)
    reasons: list[str] = []
    if item.answerable:
        if answer.refused:
            reasons.append(f"refused ({answer.refusal_reason})")
        for group in item.expect_all:
            if not any(compact(alt) in text for alt in group):
                reasons.append(f"missing {group}")
    elif not answer.refused:
        reasons.append("answered an unanswerable question")
    for forbidden in item.expect_none:
        if compact(forbidden) in text:
            reasons.append(f"contains forbidden {forbidden!r}")
    evidence = [(e.doc_id, compact(e.quote)) for e in item.evidence]
    hits = 0
    for c in answer.citations:
        passage = compact(_passage_text(snapshot, c.doc_id, c.start) or c.quote)
        if any(
            doc == c.doc_id and (quote in passage or _same_passage(passage, [quote]))
            for doc, quote in evidence
        ):
            hits += 1
    cited_facts = set(facts_in(" ".join(c.quote for c in answer.citations)))
    # the first line names the source (title, 文号); the facts to check are in the answer body
    facts = facts_in(answer.answer.split("\n", 1)[-1]) if not answer.refused else []
    supported = sum(1 for f in facts if f in cited_facts)
    return QAItemResult(
        id=item.id,
        type=item.type,
        question=item.question,
        answerable=item.answerable,
        refused=answer.refused,
        passed=not reasons,
        reasons=reasons,
        answer=answer.answer,
        citations=[c.model_dump() for c in answer.citations],
        citation_hits=hits,
        citations_total=len(answer.citations),
        facts_total=len(facts),
        facts_supported=supported,
        latency_ms=latency_ms,
        expect_all=item.expect_all,
    )


def _same_passage(quote: str, evidence_quotes: Sequence[str]) -> bool:
    """A citation supports the evidence when its quote and the evidence overlap by a long run."""
    cq = compact(quote)
    return any(ev[i : i + 8] in cq for ev in evidence_quotes for i in range(0, max(1, len(ev) - 7), 4))


def summarize(results: Sequence[QAItemResult]) -> dict[str, Any]:
    n = len(results) or 1
    refused = [r for r in results if r.refused]
    should_refuse = [r for r in results if not r.answerable]
    correct_refusals = [r for r in refused if not r.answerable]
    answered_answerable = [r for r in results if r.answerable and not r.refused]
    latencies = [r.latency_ms for r in results]
    return {
        "n": len(results),
        "accuracy": sum(r.passed for r in results) / n,
        "refusal_precision": safe_ratio(len(correct_refusals), len(refused)),
        "refusal_recall": safe_ratio(len(correct_refusals), len(should_refuse)),
        "citation_precision": safe_ratio(
            sum(r.citation_hits for r in answered_answerable),
            sum(r.citations_total for r in answered_answerable),
        ),
        "numeric_faithfulness": safe_ratio(
            sum(r.facts_supported for r in results), sum(r.facts_total for r in results)
        ),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
    }


def by_type(results: Sequence[QAItemResult]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[QAItemResult]] = defaultdict(list)
    for r in results:
        groups[r.type].append(r)
    return {t: summarize(rs) for t, rs in sorted(groups.items())}


def evaluate_qa(
    service: AssistantService,
    dataset: Path = QA_DATASET,
    mode: str | None = None,
    show_progress: bool = True,
) -> list[QAItemResult]:
    import time

    items: list[QAItem] = load_jsonl(dataset, QAItem)
    results = []
    for item in tqdm(
        items, desc=f"qa/{mode or service.default_mode}", disable=not show_progress, leave=False
    ):
        session = f"eval-{item.id}-{uuid.uuid4().hex[:8]}" if item.turns else None
        answer = None
        started = time.perf_counter()
        for turn in item.conversation:
            started = time.perf_counter()
            answer = service.ask(turn, session_id=session, mode=mode)
        latency = (time.perf_counter() - started) * 1000
        assert answer is not None
        results.append(score_item(item, answer, latency, service.library.live.current()))
        if session:
            service.reset(session)
    return results


def qa_table(summary: dict[str, Any], types: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| metric | value |",
        "|---|---|",
        *[f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in summary.items()],
        "",
        "| type | n | accuracy | refusal P | refusal R |",
        "|---|---|---|---|---|",
    ]
    for t, m in types.items():
        lines.append(
            f"| {t} | {m['n']} | {m['accuracy']:.3f} | {m['refusal_precision']:.3f} | {m['refusal_recall']:.3f} |"
        )
    return "\n".join(lines)


def results_as_dicts(results: Sequence[QAItemResult]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]
