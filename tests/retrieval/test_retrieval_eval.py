"""The retrieval regression gate on evals/datasets/retrieval.jsonl, against embedded Chroma and against a
real `chroma run` server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.library_factory import make_library
from evals.datasets import RETRIEVAL_DATASET, RetrievalItem, load_jsonl
from evals.retrieval_eval import RetrievalScores, evaluate_retrieval, retrieval_summary, retrieval_table
from retrieval.library import PolicyLibrary
from tests.conftest import library_settings

MIN_HYBRID_HIT5 = 0.95
MIN_HYBRID_MRR = 0.85


@pytest.fixture(scope="module")
def baseline_scores(built_library: PolicyLibrary) -> RetrievalScores:
    """The tutorial baseline keeps its own in-memory Chroma, so one run serves both backends."""
    return evaluate_retrieval(built_library, retrievers=["baseline"], show_progress=False)["baseline"]


@pytest.fixture(scope="module")
def server_library(chroma_server: tuple[str, int], tmp_path_factory: pytest.TempPathFactory) -> PolicyLibrary:
    library = make_library(library_settings(tmp_path_factory.mktemp("server-library"), chroma=chroma_server))
    assert library.store.location.is_server
    report = library.build()
    assert report.published and not report.errors
    return library


def check_gate(library: PolicyLibrary, baseline: RetrievalScores) -> dict[str, dict[str, float]]:
    results = evaluate_retrieval(library, retrievers=["bm25", "dense", "hybrid"], show_progress=False)
    results["baseline"] = baseline
    metrics = {name: scores.metrics() for name, scores in results.items()}
    report = retrieval_table(results)
    items = load_jsonl(RETRIEVAL_DATASET, RetrievalItem)
    assert all(m["n"] == len(items) for m in metrics.values())
    hybrid = metrics["hybrid"]
    assert hybrid["hit@5"] >= MIN_HYBRID_HIT5, report
    assert hybrid["mrr"] >= MIN_HYBRID_MRR, report
    for other in ("bm25", "dense", "baseline"):
        assert hybrid["mrr"] >= metrics[other]["mrr"], f"hybrid MRR below {other}\n{report}"
    summary = retrieval_summary(results)
    assert set(summary) == {"bm25", "dense", "hybrid", "baseline"}
    return metrics


def test_dataset_is_valid_and_gold_sections_exist(built_library: PolicyLibrary) -> None:
    items = load_jsonl(RETRIEVAL_DATASET, RetrievalItem)
    assert len(items) >= 100
    sections = {(c.doc_id, c.section_path) for c in built_library.live.current().chunks}
    for item in items:
        for gold in item.gold:
            assert any(
                doc == gold.doc_id
                and (path == gold.section_path or path.startswith(gold.section_path + " › "))
                for doc, path in sections
            ), f"{item.id}: gold section {gold.section_path!r} of {gold.doc_id} is not in the index"


def test_retrieval_gate_embedded_chroma(
    built_library: PolicyLibrary, baseline_scores: RetrievalScores
) -> None:
    assert not built_library.store.location.is_server
    check_gate(built_library, baseline_scores)


@pytest.mark.chroma_server
def test_retrieval_gate_chroma_server(
    server_library: PolicyLibrary, built_library: PolicyLibrary, baseline_scores: RetrievalScores
) -> None:
    metrics = check_gate(server_library, baseline_scores)
    # the same vectors in another Chroma give the same lexical results and (near enough) the same fusion
    embedded = evaluate_retrieval(built_library, retrievers=["bm25"], show_progress=False)["bm25"].metrics()
    assert metrics["bm25"]["mrr"] == pytest.approx(embedded["mrr"])


@pytest.mark.chroma_server
def test_server_store_holds_only_the_published_version(server_library: PolicyLibrary) -> None:
    version = server_library.layout.current_version()
    assert version in server_library.store.versions()
    assert server_library.store.heartbeat()
    assert not (Path(server_library.layout.data_dir) / "chroma").exists(), "nothing embedded on disk"
    again = server_library.build()
    assert not again.published and again.embedded_chunks == 0
