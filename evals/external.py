"""Bring-your-own-corpus evaluation (`policybot eval --corpus DIR --dataset FILE`): index DIR into a throw-away
data directory with the normal indexer and settings, ask every question of a reference-answer dataset through
`AssistantService` (what the API calls), score the answers and the top `/v1/search` passage against the
references; then, optionally, remove the evidence of N questions from a copy of the corpus and check that they
are refused. Nothing of the user's `data/` is touched."""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings
from evals.corpus_tools import header_texts, text_units, units_holding, write_plain_files, write_without_units
from evals.metrics import reference_form
from evals.qa_eval import EVAL_DATE
from evals.reference import (
    VERBATIM_FIELD,
    ReferenceItem,
    ReferenceResult,
    ask_reference,
    breakdown,
    results_as_dicts,
    summarize_reference,
)

# an evidence-removed item's reference must sit in at most this many units: a generic reference ("人民检察院",
# hundreds of articles) cannot be removed without removing most of the corpus
MAX_EVIDENCE_UNITS = 3
DEFAULT_SEED = 16


@dataclass
class IndexStats:
    corpus: str
    documents: int
    chunks: int
    characters: int
    seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def chars_per_second(self) -> float:
        return self.characters / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "seconds": round(self.seconds, 2),
            "chars_per_second": round(self.chars_per_second),
        }


def build_throwaway(
    settings: Settings, corpus_dir: Path, root: Path, show_progress: bool = True
) -> tuple[Any, IndexStats]:
    """Index `corpus_dir` into `root/data` (embedded Chroma there, whatever CHROMA_HOST says) with the
    user's other settings, and an `AssistantService` over it as the evals use it (throw-away sessions,
    the fixed eval date, no answer cache). Index time covers chunking, embedding, publishing and the sentence
    vectors `policybot index` saves."""
    from bot.evidence import save_sentence_vectors
    from bot.library_factory import make_library
    from bot.service import AssistantService
    from bot.storage.sessions import SqlSessionStore

    local = settings.model_copy(
        update={"data_dir": root / "data", "corpus_dir": corpus_dir.resolve(), "chroma_host": None}
    )
    library = make_library(local)
    documents, errors = library.load_documents()
    started = time.perf_counter()
    report = library.builder(show_progress).build(documents, errors, rebuild=True)
    save_sentence_vectors(library)
    stats = IndexStats(
        corpus=str(corpus_dir),
        documents=len(documents),
        chunks=report.chunk_count,
        characters=sum(len(d.text) for d in documents),
        seconds=time.perf_counter() - started,
        errors=[str(e) for e in errors],
    )
    service = AssistantService.from_settings(
        local,
        library=library,
        sessions=SqlSessionStore(root / "sessions.sqlite3"),
        clock=lambda: EVAL_DATE,
        answer_cache_size=0,
    )
    service.warm_up()  # as `policybot serve` does: sentence vectors loaded, every step warm
    return service, stats


@dataclass
class EvidenceRemovedRun:
    requested: int
    eligible: int
    seed: int
    units_removed: int
    still_present: list[str]  # chosen ids whose reference could still be found in the copy (should be none)
    index: IndexStats | None
    results: list[ReferenceResult]

    def metrics(self) -> dict[str, Any]:
        n = len(self.results)
        return {
            "n": n,
            "requested": self.requested,
            "eligible": self.eligible,
            "seed": self.seed,
            "units_removed": self.units_removed,
            "refused_when_evidence_removed": sum(r.refused for r in self.results) / n if n else 0.0,
            "still_present": self.still_present,
        }


def choose_evidence_items(
    items: Sequence[ReferenceItem], corpus_dir: Path, n: int, seed: int
) -> tuple[list[tuple[ReferenceItem, list[Any]]], int]:
    """(up to n items with the units holding their reference, number eligible): answerable items whose
    reference is verbatim in the corpus (found in 1–MAX_EVIDENCE_UNITS units, and not marked
    `answer_verbatim_in_corpus: false`, and not held in a document's front matter, which stays: the answerer
    quotes a header field its text lacks), sampled with a seeded generator, in dataset order."""
    units = text_units(corpus_dir)
    headers = header_texts(corpus_dir)
    eligible = []
    for item in items:
        if not item.answerable or item.extra.get(VERBATIM_FIELD) is False:
            continue
        if any(reference_form(item.answer) in header for header in headers):
            continue
        holding = units_holding(units, item.answer)
        if 1 <= len(holding) <= MAX_EVIDENCE_UNITS:
            eligible.append((item, holding))
    chosen = random.Random(seed).sample(range(len(eligible)), min(n, len(eligible)))
    return [eligible[i] for i in sorted(chosen)], len(eligible)


def run_evidence_removed(
    settings: Settings,
    corpus_dir: Path,
    items: Sequence[ReferenceItem],
    n: int,
    root: Path,
    *,
    seed: int = DEFAULT_SEED,
    mode: str | None = None,
    show_progress: bool = True,
) -> EvidenceRemovedRun:
    """Copy the corpus without the units that hold the chosen items' references, index the copy, and ask
    only those questions: every one should be refused."""
    chosen, eligible = choose_evidence_items(items, corpus_dir, n, seed)
    copy = root / "corpus"
    removed = write_without_units(corpus_dir, copy, [u for _, units in chosen for u in units])
    left = text_units(copy)
    still = [item.id for item, _ in chosen if units_holding(left, item.answer)]
    if not chosen:
        return EvidenceRemovedRun(n, eligible, seed, 0, [], None, [])
    service, stats = build_throwaway(settings, copy, root, show_progress)
    results = ask_reference(
        service, [item for item, _ in chosen], mode, show_progress, desc="evidence removed"
    )
    return EvidenceRemovedRun(n, eligible, seed, removed, still, stats, results)


@dataclass
class ExternalRun:
    corpus: str
    dataset: str
    mode: str
    plain_files: int | None
    index: IndexStats
    results: list[ReferenceResult]
    evidence_removed: EvidenceRemovedRun | None
    seconds: float = 0.0

    def metrics(self) -> dict[str, Any]:
        metrics = summarize_reference(self.results)
        verbatim = [r for r in self.results if r.fields.get(VERBATIM_FIELD) is True]
        if verbatim:
            v = summarize_reference(verbatim)
            metrics["n_verbatim"] = len(verbatim)
            metrics["contained_verbatim"] = v["contained"]
            metrics["top_passage_contained_verbatim"] = v["top_passage_contained"]
        if self.evidence_removed is not None and self.evidence_removed.results:
            metrics["refused_when_evidence_removed"] = self.evidence_removed.metrics()[
                "refused_when_evidence_removed"
            ]
        metrics["index_seconds"] = round(self.index.seconds, 2)
        metrics["index_chars_per_second"] = round(self.index.chars_per_second)
        return metrics

    def as_json(self, created: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "created": created,
            "seconds": round(self.seconds, 2),
            "corpus": self.corpus,
            "dataset": self.dataset,
            "mode": self.mode,
            "plain_files": self.plain_files,
            "eval_date": EVAL_DATE.isoformat(),
            "index": self.index.as_dict(),
            "metrics": self.metrics(),
            "by_group": breakdown(self.results),
            "items": results_as_dicts(self.results),
        }
        if self.evidence_removed is not None:
            er = self.evidence_removed
            data["evidence_removed"] = {
                **er.metrics(),
                "index": er.index.as_dict() if er.index else None,
                "items": results_as_dicts(er.results),
            }
        return data


def _f(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def markdown(run: ExternalRun) -> str:
    m = run.metrics()
    ix = run.index
    plain = f" (written out as {run.plain_files} plain-text files)" if run.plain_files is not None else ""
    lines = [
        f"## External corpus: {run.corpus}{plain}",
        "",
        f"Dataset {run.dataset}, {m['n']} questions, mode {run.mode}. Index: {ix.documents} documents, "
        f"{ix.chunks} chunks, {ix.characters:,} characters in {ix.seconds:.1f} s "
        f"({ix.chars_per_second:,.0f} characters/s).",
        "",
        "| metric | answer | top /v1/search passage |",
        "|---|---|---|",
        f"| contained (strict) | {_f(m['contained'])} | {_f(m['top_passage_contained'])} |",
    ]
    if "contained_verbatim" in m:
        lines.append(
            f"| contained, reference verbatim in corpus (n={m['n_verbatim']}) | {_f(m['contained_verbatim'])} | "
            f"{_f(m['top_passage_contained_verbatim'])} |"
        )
    lines += [
        f"| ROUGE-L F1 (characters) | {_f(m['rouge_l'])} | {_f(m['top_passage_rouge_l'])} |",
        f"| refusal rate (answerable items) | {_f(m['refusal_rate'])} | – |",
    ]
    if "unanswerable_refused" in m:
        lines.append(f"| refused (answerable: false items) | {_f(m['unanswerable_refused'])} | – |")
    lines += [f"| p50 / p95 ms per answer | {_f(m['p50_ms'])} / {_f(m['p95_ms'])} | – |", ""]
    for name, groups in breakdown(run.results).items():
        lines += [
            f"By `{name}`:",
            "",
            f"| {name} | n | contained | ROUGE-L | refusal rate | top passage contained | top passage ROUGE-L |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {g['n']} | {_f(g['contained'])} | {_f(g['rouge_l'])} | {_f(g['refusal_rate'])} | "
            f"{_f(g['top_passage_contained'])} | {_f(g['top_passage_rouge_l'])} |"
            for k, g in groups.items()
        ]
        lines.append("")
    er = run.evidence_removed
    if er is not None:
        em = er.metrics()
        lines += ["### Evidence removed", ""]
        if not er.results:
            lines += [f"No item was eligible (of {em['requested']} requested).", ""]
        else:
            refused = sum(r.refused for r in er.results)
            assert er.index is not None
            lines += [
                f"{em['n']} items (seed {er.seed}; of {er.eligible} eligible: reference verbatim in at most "
                f"{MAX_EVIDENCE_UNITS} units), {er.units_removed} units removed from a copy of the corpus, "
                f"re-indexed in {er.index.seconds:.1f} s. **Refused when evidence removed: {refused} of "
                f"{em['n']} ({em['refused_when_evidence_removed']:.3f})**"
                + (
                    f"; reference still found in the copy for: {', '.join(er.still_present)}"
                    if er.still_present
                    else ""
                )
                + ".",
                "",
            ]
            answered = [r for r in er.results if not r.refused]
            if answered:
                lines += ["Answered although the evidence was removed:", ""]
                lines += [
                    f"- {r.id} {r.question} → {r.answer.splitlines()[-1][:80] if r.answer else ''}"
                    for r in answered
                ]
                lines.append("")
    return "\n".join(lines)


def run_external(
    settings: Settings,
    corpus_dir: Path,
    dataset: Path,
    *,
    limit: int | None = None,
    evidence_removed: int = 0,
    seed: int = DEFAULT_SEED,
    plain_files: bool = False,
    mode: str | None = None,
    show_progress: bool = True,
    workdir: Path | None = None,
) -> ExternalRun:
    """The whole bring-your-own-corpus run, in a temporary directory removed afterwards (unless `workdir`)."""
    from evals.reference import load_reference

    items = load_reference(dataset, limit)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"{corpus_dir}: not a directory")
    started = time.perf_counter()
    root = workdir or Path(tempfile.mkdtemp(prefix="policybot-byo-"))
    try:
        source = corpus_dir
        files = None
        if plain_files:
            source = root / "plain"
            files = write_plain_files(corpus_dir, source)
            print(f"{corpus_dir}: written as {files} plain-text files without front matter", file=sys.stderr)
        print(f"indexing {source} into a throw-away data directory ({root})", file=sys.stderr)
        service, stats = build_throwaway(settings, source, root / "main", show_progress)
        print(
            f"indexed {stats.documents} documents, {stats.chunks} chunks, {stats.characters:,} characters in "
            f"{stats.seconds:.1f} s",
            file=sys.stderr,
        )
        chosen_mode = mode or service.default_mode
        results = ask_reference(service, items, chosen_mode, show_progress)
        removed = None
        if evidence_removed > 0:
            print(
                f"evidence removed: a copy of {source} without the evidence of {evidence_removed} items",
                file=sys.stderr,
            )
            removed = run_evidence_removed(
                settings,
                source,
                items,
                evidence_removed,
                root / "evidence-removed",
                seed=seed,
                mode=chosen_mode,
                show_progress=show_progress,
            )
        return ExternalRun(
            corpus=str(corpus_dir),
            dataset=str(dataset),
            mode=chosen_mode,
            plain_files=files,
            index=stats,
            results=results,
            evidence_removed=removed,
            seconds=time.perf_counter() - started,
        )
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
            if root.exists():  # seen once in a full test run (an index LOCK file left); say so, do not fail
                print(f"note: could not remove all of {root}", file=sys.stderr)


def write_external_reports(out: Path, run: ExternalRun, created: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(run.as_json(created), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (out / "report.md").write_text(
        f"# policybot external-corpus eval ({created})\n\n{markdown(run)}\n", encoding="utf-8"
    )
    return out
