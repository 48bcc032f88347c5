"""`policybot eval` end to end on subsets: determinism, reports (JSON, Markdown, self-contained HTML), the
baseline round trip, and a deliberately broken retriever that the comparison must catch."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.cli import build_parser
from bot.config import Settings
from evals.cli import run_eval
from evals.compare import load_baseline
from evals.report import render_html, report_json
from evals.runner import EvalRun, run_suites, snapshot
from retrieval.library import PolicyLibrary
from retrieval.retriever import SearchResult
from tests.evals.conftest import make_service

RETRIEVERS = ["bm25", "dense", "hybrid", "baseline"]
DEV_SUITES = (
    "retrieval",
    "qa",
    "multiturn",
)  # the test split and paraphrases: test_test_and_paraphrase_suites


def _eval(argv: list[str], service: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = build_parser().parse_args(["eval", *argv])
    code = run_eval(args, Settings(), service=service)
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def first_run(
    built_library: PolicyLibrary, subset_datasets: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> EvalRun:
    qa, retrieval = subset_datasets
    service = make_service(built_library, tmp_path_factory.mktemp("first"))
    return run_suites(
        service,
        suites=DEV_SUITES,
        retrievers=RETRIEVERS,
        qa_dataset=qa,
        retrieval_dataset=retrieval,
        show_progress=False,
    )


def test_a_run_covers_every_suite_and_configuration(first_run: EvalRun) -> None:
    assert list(first_run.retrieval) == RETRIEVERS
    assert set(first_run.qa) == {"extractive"} and set(first_run.multiturn) == {"extractive"}
    assert all(r.turns for r in first_run.multiturn["extractive"])
    assert not any(r.turns for r in first_run.qa["extractive"])
    metrics = first_run.metrics()
    for key in (
        "accuracy",
        "key_fact_coverage",
        "forbidden_rate",
        "refusal_precision",
        "refusal_recall",
        "citation_precision",
        "citation_recall",
        "numeric_faithfulness",
        "evidence_retrieved",
    ):
        assert 0.0 <= metrics["qa"]["extractive"][key] <= 1.0, key
    assert "judge_faithfulness" not in metrics["qa"]["extractive"]  # no endpoint configured
    assert set(first_run.by_type()["qa"]["extractive"]) >= {"factual", "unanswerable"}
    # every QA item knows whether its evidence was retrieved (to tell retrieval from answering misses)
    for r in first_run.qa["extractive"]:
        assert r.retrieved is not None and all(e["retrieved"] is not None for e in r.evidence)


def test_two_runs_give_the_same_scores(
    first_run: EvalRun,
    built_library: PolicyLibrary,
    subset_datasets: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    qa, retrieval = subset_datasets
    again = run_suites(
        make_service(built_library, tmp_path),
        suites=DEV_SUITES,
        retrievers=RETRIEVERS,
        qa_dataset=qa,
        retrieval_dataset=retrieval,
        show_progress=False,
    )
    assert snapshot(again) == snapshot(first_run)

    def without_latency(data: dict[str, Any]) -> str:
        text = json.dumps(
            {k: v for k, v in data.items() if k not in ("created", "seconds", "metrics", "by_type")}
        )
        return re.sub(r'"latency_ms": [0-9.e-]+', "", text)

    assert without_latency(report_json(again, "x")) == without_latency(report_json(first_run, "x"))


def test_html_report_is_self_contained_and_escaped(first_run: EvalRun) -> None:
    failing = next(r for r in first_run.qa["extractive"] if r.answerable)
    original = (failing.question, failing.passed, failing.reasons, failing.diagnosis)
    failing.question, failing.passed, failing.reasons = "<script>alert('x')</script>", False, ["missing <b>"]
    failing.diagnosis = "answer incomplete"
    try:
        page = render_html(first_run, "2026-11-29")
    finally:
        failing.question, failing.passed, failing.reasons, failing.diagnosis = original
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "missing &lt;b&gt;" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "no external assets"
    assert "<link" not in page
    assert page.count('src="data:image/png;base64,') == 3  # accuracy by type, refusal matrix, latency
    assert 'id="failures"' in page and "retrieved" in page


def test_cli_writes_reports_and_baseline_then_compares_clean(
    eval_service: Any, subset_datasets: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qa, retrieval = subset_datasets
    baseline = tmp_path / "baseline.json"
    common = [
        "--dataset",
        str(qa),
        "--dataset",
        str(retrieval),
        "--retriever",
        "bm25",
        "--retriever",
        "hybrid",
        "--reports-dir",
        str(tmp_path / "reports"),
        "--no-progress",
    ]
    code, out = _eval([*common, "--compare", str(baseline), "--update-baseline"], eval_service, capsys)
    assert code == 0, out
    assert "## Retrieval" in out and "## QA (single question)" in out and "## Multi-turn QA" in out
    saved = load_baseline(baseline)
    assert set(saved["suites"]) == {"retrieval", "qa", "multiturn"}
    assert set(saved["suites"]["retrieval"]) == {"bm25", "hybrid"}
    assert all(isinstance(v, bool) for v in saved["suites"]["qa"]["extractive"]["items"].values())
    reports = sorted((tmp_path / "reports").iterdir())
    assert len(reports) == 1 and {p.name for p in reports[0].iterdir()} == {
        "report.json",
        "report.md",
        "report.html",
    }
    data = json.loads((reports[0] / "report.json").read_text(encoding="utf-8"))
    item = data["qa"]["extractive"]["items"][0]
    for key in (
        "question",
        "expected",
        "answer",
        "citations",
        "passed",
        "reasons",
        "latency_ms",
        "diagnosis",
    ):
        assert key in item

    code, out = _eval([*common, "--compare", str(baseline), "--json"], eval_service, capsys)
    assert code == 0, out
    comparison = json.loads(out)["comparison"]
    assert comparison["ok"] and not comparison["pass_to_fail"] and not comparison["fail_to_pass"]
    assert len(sorted((tmp_path / "reports").iterdir())) == 2

    code, out = _eval([*common, "--fail-under", "qa.extractive.accuracy=1.01"], eval_service, capsys)
    assert code == 1 and "below 1.01" in out
    code, out = _eval([*common, "--fail-under", "hybrid.mrr=0.1"], eval_service, capsys)
    assert code == 0, out


class ReversedLibrary:
    """A broken retriever: the library's candidates in reverse order (the least relevant first)."""

    def __init__(self, inner: PolicyLibrary) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def search(self, query: str, k: int = 5, method: str = "hybrid", filters: Any = None) -> SearchResult:
        result = self._inner.search(query, k=40, method=method, filters=filters)  # type: ignore[arg-type]
        result.passages = list(reversed(result.passages))[:k]
        return result


def test_a_broken_retriever_fails_the_comparison(
    built_library: PolicyLibrary,
    subset_datasets: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    qa, retrieval = subset_datasets
    baseline = tmp_path / "baseline.json"
    common = [
        "--dataset",
        str(qa),
        "--dataset",
        str(retrieval),
        "--retriever",
        "hybrid",
        "--reports-dir",
        str(tmp_path / "reports"),
        "--no-progress",
    ]
    code, _ = _eval(
        [*common, "--compare", str(baseline), "--update-baseline"],
        make_service(built_library, tmp_path),
        capsys,
    )
    assert code == 0
    broken = make_service(ReversedLibrary(built_library), tmp_path / "broken")
    code, out = _eval([*common, "--compare", str(baseline)], broken, capsys)
    assert code == 1, out
    assert "RESULT: REGRESSION" in out
    flipped = re.findall(r"^- (qa|multiturn|retrieval)/\S+ (\S+): (pass|rank \d+) → (fail|miss)", out, re.M)
    assert len(flipped) >= 3, out
    assert any(kind == "retrieval" for kind, *_ in flipped) and any(kind == "qa" for kind, *_ in flipped)
    assert "retrieval/hybrid mrr" in out
    # the failure section tells the evaluator the evidence was not retrieved
    report = sorted((tmp_path / "reports").iterdir())[-1]
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    diagnoses = {i["diagnosis"] for i in data["qa"]["extractive"]["items"]}
    assert "retrieval miss" in diagnoses
    assert built_library.search("计划", k=1).passages  # the shared library is untouched
    assert "search" not in vars(built_library)
