"""The frozen test split and the paraphrase suite: the consistency metric on hand-made answers, a suite skipped
with a note when its file is missing, and `policybot eval` end to end on small fixtures (dev and test side by
side, per-style tables, consistency, an old baseline reporting the new suites as new)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answer, Citation
from bot.cli import build_parser
from bot.config import Settings
from evals.cli import run_eval
from evals.compare import compare
from evals.datasets import QAItem, iter_lines
from evals.qa_eval import QAItemResult, by_type, mark_consistency, score_item, summarize
from evals.runner import run_suites, snapshot

DOC = "zibo-new-infra-2021"


def _answer(sections: list[str], refused: bool = False) -> Answer:
    citations = [
        Citation(n=i, doc_id=DOC, title="t", section_path=p, quote="q", start=0, end=1)
        for i, p in enumerate(sections, 1)
    ]
    return Answer(answer_id="a", answer="…", refused=refused, citations=citations)


def _result(
    item_id: str, sections: list[str], refused: bool = False, source: str | None = None, style: str = ""
) -> QAItemResult:
    item = QAItem(id=item_id, type="factual", question="问？", answerable=True)
    result = score_item(item, _answer(sections, refused), 1.0)
    result.paraphrase_of, result.style = source, style or None
    return result


def test_consistency_compares_with_the_source_answers_first_clause() -> None:
    sources = {
        "s1": _result("s1", ["一、A", "二、B"]),
        "s2": _result("s2", [], refused=True),
    }
    paraphrases = [
        _result("p1", ["二、B", "一、A"], source="s1", style="colloquial"),  # cites the source's first clause
        _result("p2", ["二、B"], source="s1", style="colloquial"),  # only the source's second clause
        _result("p3", [], refused=True, source="s1", style="english"),  # refuses what the source answered
        _result("p4", [], refused=True, source="s2", style="english"),  # refuses like the source
        _result("p5", ["一、A"], source="s2", style="shorter"),  # answers what the source refused
        _result("p6", ["一、A"], source="missing", style="shorter"),  # source not answered in the run
    ]
    mark_consistency(paraphrases, sources)
    assert [r.consistent for r in paraphrases] == [True, False, False, True, False, None]
    summary = summarize(paraphrases)
    assert summary["consistency"] == pytest.approx(2 / 5) and summary["consistency_pairs"] == 5
    styles = by_type(paraphrases, "style")
    assert set(styles) == {"colloquial", "english", "shorter"}
    assert styles["colloquial"]["consistency"] == 0.5 and styles["english"]["consistency"] == 0.5
    assert styles["shorter"]["consistency"] == 0.0 and styles["shorter"]["consistency_pairs"] == 1
    assert "consistency" not in summarize([sources["s1"]])  # only paraphrase suites report it


def test_a_missing_suite_file_is_skipped_with_a_note(eval_service: Any, tmp_path: Path) -> None:
    run = run_suites(
        eval_service,
        suites=("test", "paraphrase"),
        test_dataset=tmp_path / "qa_test.jsonl",
        paraphrase_dataset=tmp_path / "paraphrases.jsonl",
        show_progress=False,
    )
    assert not run.test and not run.paraphrase and not run.qa_suites()
    assert run.notes == [
        f"test: {tmp_path / 'qa_test.jsonl'} not found; suite skipped",
        f"paraphrase: {tmp_path / 'paraphrases.jsonl'} not found; suite skipped",
    ]


@pytest.fixture
def suite_fixtures(subset_datasets: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path, Path]:
    """(dev subset, a small test split, paraphrases of two dev items): the test split is dev items under new
    ids (one conversation); p-same repeats its source word for word (must be consistent), p-other asks about
    another city (must refuse although the source is answered: inconsistent)."""
    qa, _ = subset_datasets
    rows = [json.loads(line) for _, line in iter_lines(qa)]
    factual = [r for r in rows if r["type"] == "factual" and not r.get("turns")]
    conversation = next(r for r in rows if r.get("turns"))
    unanswerable = next(r for r in rows if not r["answerable"])
    test_rows = [
        {**factual[0], "id": "t-1"},
        {**unanswerable, "id": "t-2"},
        {**conversation, "id": "t-3"},
    ]
    paraphrases = [
        {**factual[0], "id": "p-same", "paraphrase_of": factual[0]["id"], "style": "other_words"},
        {**factual[1], "id": "p-trad", "paraphrase_of": factual[1]["id"], "style": "traditional"},
        {
            **factual[1],
            "id": "p-other",
            "question": "北京市的新基建计划里，5G基站建设补贴每个多少钱？",
            "paraphrase_of": factual[1]["id"],
            "style": "longer",
        },
    ]
    test_path, paraphrase_path = tmp_path / "qa_test.jsonl", tmp_path / "paraphrases.jsonl"
    for path, data in ((test_path, test_rows), (paraphrase_path, paraphrases)):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    return qa, test_path, paraphrase_path


def _cli(argv: list[str], service: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run_eval(build_parser().parse_args(["eval", *argv]), Settings(), service=service)
    return code, capsys.readouterr().out


def test_dev_test_and_paraphrase_suites_side_by_side(
    eval_service: Any,
    suite_fixtures: tuple[Path, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    qa, test, paraphrases = suite_fixtures
    files = ["--dataset", str(qa), "--test-dataset", str(test), "--paraphrase-dataset", str(paraphrases)]
    reports = ["--reports-dir", str(tmp_path / "reports"), "--no-progress"]
    # an old baseline: dev suites only
    old = tmp_path / "baseline.json"
    code, _ = _cli(
        ["qa", "--dataset", str(qa), "--compare", str(old), "--update-baseline", *reports],
        eval_service,
        capsys,
    )
    assert code == 0 and set(json.loads(old.read_text(encoding="utf-8"))["suites"]) == {"qa", "multiturn"}

    code, out = _cli([*files, "--compare", str(old), *reports], eval_service, capsys)
    assert code == 0, out
    assert "## Dev and test side by side" in out
    assert "| metric | dev/extractive | test/extractive |" in out
    assert "## Test split" in out and "## Paraphrases of dev items" in out
    assert "| style | n | extractive accuracy | extractive consistency |" in out
    assert "new (not in the baseline, not compared): test/extractive, paraphrase/extractive" in out
    assert "RESULT: no regression" in out

    latest = max(
        (tmp_path / "reports").iterdir(),
        key=lambda d: "test" in json.loads((d / "report.json").read_text(encoding="utf-8"))["metrics"],
    )
    page = (latest / "report.html").read_text(encoding="utf-8")
    assert (
        "Dev and test side by side" in page and "dev/extractive" in page and "extractive consistency" in page
    )
    report = json.loads((latest / "report.json").read_text(encoding="utf-8"))
    assert report["metrics"]["test"]["extractive"]["n"] == 3
    assert {i["id"] for i in report["test"]["extractive"]["items"]} == {"t-1", "t-2", "t-3"}
    # the test split holds dev items under new ids: they are asked and scored the same way
    dev_by_question = {i["question"]: i for i in report["qa"]["extractive"]["items"]}
    for item in report["test"]["extractive"]["items"]:
        if not item["turns"]:
            twin = dev_by_question[item["question"]]
            assert (item["answer"], item["passed"]) == (twin["answer"], twin["passed"])
    items = {i["id"]: i for i in report["paraphrase"]["extractive"]["items"]}
    assert items["p-same"]["consistent"] is True
    assert items["p-other"]["refused"] and items["p-other"]["consistent"] is False
    assert items["p-trad"]["style"] == "traditional" and items["p-trad"]["paraphrase_of"]
    metrics = report["metrics"]["paraphrase"]["extractive"]
    assert metrics["consistency_pairs"] == 3 and metrics["consistency"] <= 2 / 3
    assert set(report["by_type"]["paraphrase"]["extractive"]) == {"other_words", "traditional", "longer"}


def test_paraphrase_suite_alone_asks_the_sources_for_consistency(
    eval_service: Any,
    suite_fixtures: tuple[Path, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    qa, _, paraphrases = suite_fixtures
    argv = ["paraphrase", "--dataset", str(qa), "--paraphrase-dataset", str(paraphrases)]
    code, out = _cli([*argv, "--reports-dir", str(tmp_path), "--no-progress", "--json"], eval_service, capsys)
    assert code == 0
    data = json.loads(out)
    assert set(data["metrics"]) == {"paraphrase"}  # the sources were asked, not reported as a dev suite
    assert data["metrics"]["paraphrase"]["extractive"]["consistency_pairs"] == 3


def test_snapshot_and_comparison_cover_the_new_suites(
    eval_service: Any, suite_fixtures: tuple[Path, Path, Path]
) -> None:
    qa, test, paraphrases = suite_fixtures
    run = run_suites(
        eval_service,
        suites=("test", "paraphrase"),
        qa_dataset=qa,
        test_dataset=test,
        paraphrase_dataset=paraphrases,
        show_progress=False,
    )
    snap = snapshot(run)
    assert set(snap["suites"]) == {"test", "paraphrase"}
    assert "consistency" in snap["suites"]["paraphrase"]["extractive"]["metrics"]
    assert set(snap["datasets"]) == {"test", "paraphrase"}
    # against itself: nothing new; against an empty baseline: everything new and no problem
    assert compare(snap, snap).new_configs == [] and compare(snap, snap).ok
    fresh = compare(snap, {"suites": {}})
    assert fresh.ok and fresh.new_configs == ["test/extractive", "paraphrase/extractive"]
    # a paraphrase that stops agreeing with its source is a regression of consistency
    worse = json.loads(json.dumps(snap))
    worse["suites"]["paraphrase"]["extractive"]["metrics"]["consistency"] -= 0.5
    assert any("consistency" in p for p in compare(worse, snap).problems)
