"""QA eval: scores every answer against its item (pass/fail with reasons) and summarises the answer-quality
metrics: accuracy, key-fact coverage, forbidden-content rate, refusal precision/recall, citation precision
and recall, numeric faithfulness, evidence retrieved, optional LLM-judge faithfulness, latency."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.answer import Answer
from bot.service import AssistantService
from bot.verify import claims_text, facts_in
from evals.datasets import QA_DATASET, QAItem, load_jsonl
from evals.metrics import contains_any, mean, overlaps, percentile, safe_ratio
from retrieval.index import IndexSnapshot

# the eval answers as of a fixed day, so date-dependent notices never change a report
EVAL_DATE = dt.date(2026, 11, 29)

# headline metrics (deterministic; compared against the baseline); forbidden_rate is better when lower
QA_HEADLINE = (
    "accuracy",
    "key_fact_coverage",
    "forbidden_rate",
    "refusal_precision",
    "refusal_recall",
    "citation_precision",
    "citation_recall",
    "numeric_faithfulness",
)
LOWER_IS_BETTER = frozenset({"forbidden_rate"})


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
    expect_none: list[str] = field(default_factory=list)
    turns: list[str] | None = None
    mode: str = "extractive"
    refusal_reason: str | None = None
    standalone_question: str = ""
    groups_total: int = 0
    groups_hit: int = 0
    forbidden_hits: list[str] = field(default_factory=list)
    # one row per evidence quote: {doc_id, quote, retrieved, cited}
    evidence: list[dict[str, Any]] = field(default_factory=list)
    # the passages the retriever returned for the (last) question: {doc_id, section_path, start, end}
    retrieved: list[dict[str, Any]] | None = None
    diagnosis: str = ""
    judge_faithfulness: float | None = None
    judge_statements: list[dict[str, Any]] = field(default_factory=list)
    # paraphrase items only: the dev item rephrased, the style, and whether the answer agrees with the
    # answer to that dev item in the same run (see `consistent_with`; None when the source was not answered)
    paraphrase_of: str | None = None
    style: str | None = None
    consistent: bool | None = None

    @property
    def multi_turn(self) -> bool:
        return bool(self.turns)

    @property
    def evidence_total(self) -> int:
        return len(self.evidence)

    @property
    def evidence_cited(self) -> int:
        return sum(1 for e in self.evidence if e["cited"])

    @property
    def evidence_retrieved(self) -> int:
        return sum(1 for e in self.evidence if e.get("retrieved"))


def _passage_text(snapshot: IndexSnapshot | None, doc_id: str, start: int) -> str:
    if snapshot is None:
        return ""
    for chunk in snapshot.chunks_of(doc_id):
        if chunk.start <= start < chunk.end:
            return chunk.text
    return ""


def _diagnose(item: QAItem, answer: Answer, reasons: list[str], evidence: list[dict[str, Any]]) -> str:
    """What kind of miss a failure is, so a retrieval miss can be told from an answering miss."""
    if not reasons:
        return "pass"
    if not item.answerable:
        return "answered unanswerable" if not answer.refused else "forbidden content"
    if any(e.get("retrieved") is False for e in evidence):
        return "retrieval miss"
    if answer.refused:
        return "refused although the evidence was retrieved"
    if any(r.startswith("missing") for r in reasons):
        return "answer incomplete"
    return "forbidden content"


def score_item(
    item: QAItem,
    answer: Answer,
    latency_ms: float,
    snapshot: IndexSnapshot | None = None,
    retrieved: Sequence[dict[str, Any]] | None = None,
) -> QAItemResult:
    reasons: list[str] = []
    groups_hit = 0
    if item.answerable:
        if answer.refused:
            reasons.append(f"refused ({answer.refusal_reason})")
        for group in item.expect_all:
            if not answer.refused and contains_any(answer.answer, group):
                groups_hit += 1
            elif not answer.refused:
                reasons.append(f"missing {group}")
    elif not answer.refused:
        reasons.append("answered an unanswerable question")
    forbidden = [f for f in item.expect_none if contains_any(answer.answer, [f])]
    reasons += [f"contains forbidden {f!r}" for f in forbidden]

    passages = [
        (_passage_text(snapshot, c.doc_id, c.start) if c.source == "text" else "") or c.quote
        for c in answer.citations
    ]
    hits = sum(
        1
        for c, passage in zip(answer.citations, passages, strict=True)
        if any(e.doc_id == c.doc_id and overlaps(passage, e.quote) for e in item.evidence)
    )
    evidence = []
    for e in item.evidence:
        cited = any(
            c.doc_id == e.doc_id and overlaps(passage, e.quote)
            for c, passage in zip(answer.citations, passages, strict=True)
        )
        found = (
            None
            if retrieved is None
            else any(r["doc_id"] == e.doc_id and overlaps(r.get("text", ""), e.quote) for r in retrieved)
        )
        evidence.append({"doc_id": e.doc_id, "quote": e.quote, "retrieved": found, "cited": cited})

    cited_facts = set(facts_in(" ".join(c.quote for c in answer.citations)))
    # the first line names the source (title, 文号); the facts to check are in the answer body
    facts = facts_in(claims_text(answer.answer)) if not answer.refused else []
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
        expect_none=item.expect_none,
        turns=item.turns,
        mode=answer.mode,
        refusal_reason=answer.refusal_reason,
        standalone_question=answer.standalone_question,
        groups_total=len(item.expect_all) if item.answerable else 0,
        groups_hit=groups_hit,
        forbidden_hits=forbidden,
        evidence=evidence,
        retrieved=[{k: r[k] for k in ("doc_id", "section_path", "start", "end")} for r in retrieved]
        if retrieved is not None
        else None,
        diagnosis=_diagnose(item, answer, reasons, evidence),
    )


def summarize(results: Sequence[QAItemResult]) -> dict[str, Any]:
    n = len(results) or 1
    refused = [r for r in results if r.refused]
    should_refuse = [r for r in results if not r.answerable]
    correct_refusals = [r for r in refused if not r.answerable]
    answered_answerable = [r for r in results if r.answerable and not r.refused]
    with_facts = [r for r in results if r.answerable and r.groups_total]
    with_forbidden = [r for r in results if r.expect_none]
    with_evidence = [r for r in results if r.answerable and r.evidence]
    judged = [r.judge_faithfulness for r in results if r.judge_faithfulness is not None]
    latencies = [r.latency_ms for r in results]
    summary: dict[str, Any] = {
        "n": len(results),
        "accuracy": sum(r.passed for r in results) / n,
        "key_fact_coverage": mean([r.groups_hit / r.groups_total for r in with_facts]),
        "forbidden_rate": safe_ratio(
            sum(1 for r in with_forbidden if r.forbidden_hits), len(with_forbidden), 0.0
        ),
        "refusal_precision": safe_ratio(len(correct_refusals), len(refused)),
        "refusal_recall": safe_ratio(len(correct_refusals), len(should_refuse)),
        "citation_precision": safe_ratio(
            sum(r.citation_hits for r in answered_answerable),
            sum(r.citations_total for r in answered_answerable),
        ),
        "citation_recall": safe_ratio(
            sum(r.evidence_cited for r in answered_answerable),
            sum(r.evidence_total for r in answered_answerable),
        ),
        "numeric_faithfulness": safe_ratio(
            sum(r.facts_supported for r in results), sum(r.facts_total for r in results)
        ),
        "evidence_retrieved": safe_ratio(
            sum(r.evidence_retrieved for r in with_evidence), sum(r.evidence_total for r in with_evidence)
        ),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
    }
    if judged:
        summary["judge_faithfulness"] = sum(judged) / len(judged)
        summary["judge_items"] = len(judged)
    if any(r.paraphrase_of for r in results):
        paired = [r.consistent for r in results if r.consistent is not None]
        summary["consistency"] = safe_ratio(sum(paired), len(paired))
        summary["consistency_pairs"] = len(paired)
    return summary


def by_type(results: Sequence[QAItemResult], key: str = "type") -> dict[str, dict[str, Any]]:
    """Summaries per value of a result attribute: `type`, or `style` for paraphrases."""
    groups: dict[str, list[QAItemResult]] = defaultdict(list)
    for r in results:
        groups[str(getattr(r, key))].append(r)
    return {t: summarize(rs) for t, rs in sorted(groups.items())}


def first_clause(result: QAItemResult) -> tuple[str, str] | None:
    """(doc_id, section_path) of an answer's first citation."""
    if not result.citations:
        return None
    first = result.citations[0]
    return first["doc_id"], first["section_path"]


def consistent_with(paraphrase: QAItemResult, source: QAItemResult) -> bool:
    """A paraphrase's answer agrees with its source's answer (same mode, same run) when both are refused, or
    when neither is and the paraphrase cites the clause the source cites first: one of its citations has the
    same (doc_id, section_path) as the source answer's first citation."""
    if source.refused or paraphrase.refused:
        return source.refused and paraphrase.refused
    clause = first_clause(source)
    return clause is not None and any(
        (c["doc_id"], c["section_path"]) == clause for c in paraphrase.citations
    )


def mark_consistency(paraphrases: Sequence[QAItemResult], sources: dict[str, QAItemResult]) -> None:
    """Set `consistent` on every paraphrase whose source dev item was answered in the run (else None)."""
    for r in paraphrases:
        source = sources.get(r.paraphrase_of or "")
        r.consistent = None if source is None else consistent_with(r, source)


class _SearchRecorder:
    """Remembers the last search the answering chain made on the library (to tell retrieval misses from
    answering misses) by shadowing `library.search` on the instance for the duration of the run."""

    def __init__(self, library: Any) -> None:
        self.library = library
        self.last: Any = None

    def __enter__(self) -> _SearchRecorder:
        original = self.library.search

        def record(*args: Any, **kwargs: Any) -> Any:
            self.last = original(*args, **kwargs)
            return self.last

        self.library.search = record
        return self

    def __exit__(self, *exc: Any) -> None:
        self.library.__dict__.pop("search", None)

    def passages(self) -> list[dict[str, Any]] | None:
        if self.last is None:
            return None
        return [
            {
                "doc_id": p.chunk.doc_id,
                "section_path": p.chunk.section_path,
                "start": p.chunk.start,
                "end": p.chunk.end,
                "text": p.chunk.text,
            }
            for p in self.last.passages
        ]


Judge = Callable[[QAItemResult], tuple[float | None, list[dict[str, Any]]]]


def evaluate_qa(
    service: AssistantService,
    dataset: Path = QA_DATASET,
    mode: str | None = None,
    show_progress: bool = True,
    *,
    items: Sequence[QAItem] | None = None,
    progress: tqdm | None = None,
    judge: Judge | None = None,
) -> list[QAItemResult]:
    """Ask every item (each conversation in a fresh session) and score the final answer."""
    if items is None:
        items = load_jsonl(dataset, QAItem)
    chosen = mode or service.default_mode
    bar = progress or tqdm(total=len(items), desc=f"qa/{chosen}", disable=not show_progress, leave=False)
    results = []
    with _SearchRecorder(service.library) as recorder:
        for item in items:
            session = f"eval-{item.id}-{uuid.uuid4().hex[:8]}" if item.turns else None
            answer = None
            started = time.perf_counter()
            for turn in item.conversation:
                recorder.last = None
                started = time.perf_counter()
                answer = service.ask(turn, session_id=session, mode=mode)
            latency = (time.perf_counter() - started) * 1000
            assert answer is not None
            result = score_item(item, answer, latency, service.library.live.current(), recorder.passages())
            result.paraphrase_of = getattr(item, "paraphrase_of", None)
            result.style = getattr(item, "style", None)
            if judge is not None and not result.refused:
                result.judge_faithfulness, result.judge_statements = judge(result)
            results.append(result)
            if session:
                service.reset(session)
            bar.update(1)
    if progress is None:
        bar.close()
    return results


def results_as_dicts(results: Sequence[QAItemResult]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]
