"""Dataset tools: check-dataset (line-numbered problems, exit 1), the lossless CSV round trip of qa.jsonl,
CSV with `|`-separated lists, and thumbs-down feedback (API or Telegram) exported as draft items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answer, Citation
from bot.cli import build_parser
from bot.config import Settings
from bot.storage.feedback import FeedbackStore
from evals.cli import run_eval
from evals.dataset_tools import check_dataset, export_feedback, import_csv
from evals.datasets import (
    QA_DATASET,
    RETRIEVAL_DATASET,
    DatasetError,
    QAItem,
    detect_format,
    iter_lines,
    load_jsonl,
)
from retrieval.library import PolicyLibrary
from tests.conftest import CORPUS_DIR, ZIBO


def _eval(argv: list[str], capsys: pytest.CaptureFixture[str], **kwargs: Any) -> tuple[int, str]:
    args = build_parser().parse_args(["eval", *argv])
    code = run_eval(args, kwargs.pop("settings", Settings()), **kwargs)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture(scope="module")
def corpus(built_library: PolicyLibrary) -> tuple[dict[str, str], list[tuple[str, str]]]:
    documents, _ = built_library.load_documents()
    sections = [(c.doc_id, c.section_path) for c in built_library.live.current().chunks]
    return {d.doc_id: d.text for d in documents}, sections


def test_format_is_detected_by_fields() -> None:
    assert detect_format(QA_DATASET) == "qa" and detect_format(RETRIEVAL_DATASET) == "retrieval"


SHIPPED = sorted({QA_DATASET, RETRIEVAL_DATASET, *QA_DATASET.parent.glob("*.jsonl")})


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_datasets_pass_the_check(
    path: Path, corpus: tuple[dict[str, str], list[tuple[str, str]]]
) -> None:
    _, errors, _ = check_dataset(path, *corpus)
    assert errors == []


def test_check_reports_every_problem_with_its_line(
    corpus: tuple[dict[str, str], list[tuple[str, str]]], tmp_path: Path
) -> None:
    good = {
        "id": "a",
        "type": "factual",
        "question": "问",
        "answerable": True,
        "expect_all": [["创新基础设施"]],
        "expect_none": [],
        "evidence": [{"doc_id": ZIBO, "quote": "发挥创新基础设施的共性支撑作用"}],
    }
    lines = [
        good,
        {**good, "id": "a"},  # 2: duplicate id
        {
            **good,
            "id": "b",
            "evidence": [{"doc_id": ZIBO, "quote": "文件里没有这句话"}],
        },  # 3: quote not verbatim
        {**good, "id": "c", "evidence": [{"doc_id": "nope", "quote": "x"}]},  # 4: unknown document
        {**good, "id": "d", "answerable": None, "needs_review": True},  # 5: a draft
    ]
    path = tmp_path / "qa.jsonl"
    path.write_text(
        "\n".join([*(json.dumps(x, ensure_ascii=False) for x in lines), "{not json"]) + "\n", encoding="utf-8"
    )
    kind, errors, _ = check_dataset(path, *corpus)
    assert kind == "qa"
    text = "\n".join(errors)
    assert "line 2: duplicate id 'a'" in text
    assert "line 3: evidence[0].quote not found verbatim" in text
    assert "line 4: evidence[0].doc_id 'nope' is not a known document" in text
    assert "line 5:" in text and "answerable" in text
    assert "line 6: invalid JSON" in text

    retrieval = tmp_path / "r.jsonl"
    retrieval.write_text(
        json.dumps(
            {
                "id": "r1",
                "type": "literal",
                "query": "q",
                "gold": [{"doc_id": ZIBO, "section_path": "九、不存在的章节"}],
            },
            ensure_ascii=False,
        )
        + "\n"
        + json.dumps({"id": "r2", "type": "literal", "query": "", "gold": []})
        + "\n",
        encoding="utf-8",
    )
    kind, errors, _ = check_dataset(retrieval, *corpus)
    assert kind == "retrieval"
    assert errors[0].startswith("line 1: gold[0].section_path '九、不存在的章节'") and errors[1].startswith(
        "line 2:"
    )


def test_check_dataset_cli_exit_codes(
    eval_service: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _eval(["check-dataset", str(QA_DATASET), "--no-progress"], capsys, service=eval_service)
    assert code == 0 and "ok (qa dataset)" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "type": "t", "question": "q", "answerable": "maybe"}\n', encoding="utf-8")
    code, out = _eval(["check-dataset", str(bad), "--no-progress"], capsys, service=eval_service)
    assert code == 1 and "line 1: answerable" in out


def test_csv_round_trip_of_the_qa_dataset_is_lossless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path, back = tmp_path / "qa.csv", tmp_path / "qa.jsonl"
    assert _eval(["export-csv", str(QA_DATASET), str(csv_path)], capsys)[0] == 0
    assert _eval(["import-csv", str(csv_path), str(back)], capsys)[0] == 0
    original = [json.loads(line) for _, line in iter_lines(QA_DATASET)]
    again = [json.loads(line) for _, line in iter_lines(back)]
    assert again == original
    assert [list(x) for x in again] == [list(x) for x in original]  # same field order too
    assert len(load_jsonl(back, QAItem)) == len(original)


def test_csv_with_separated_lists_and_drafts(tmp_path: Path) -> None:
    csv_path = tmp_path / "hand.csv"
    csv_path.write_text(
        "id,type,question,answerable,expect_all,expect_none,evidence,turns,comment\n"
        f"h1,factual,计划要发挥哪类基础设施的作用？,是,创新基础设施;创新 | 共性支撑,5G|千兆,{ZIBO}: 发挥创新基础设施的共性支撑作用,,看一下\n"
        "h2,feedback,问题？,,,,,,\n",
        encoding="utf-8",
    )
    count, problems = import_csv(csv_path, tmp_path / "hand.jsonl")
    assert (count, problems) == (2, [])
    first, second = (json.loads(line) for _, line in iter_lines(tmp_path / "hand.jsonl"))
    assert first["answerable"] is True
    assert first["expect_all"] == [["创新基础设施", "创新"], ["共性支撑"]]
    assert first["expect_none"] == ["5G", "千兆"]
    assert first["evidence"] == [{"doc_id": ZIBO, "quote": "发挥创新基础设施的共性支撑作用"}]
    assert "turns" not in first and first["comment"] == "看一下"
    assert second["answerable"] is None
    bad = tmp_path / "bad.csv"
    bad.write_text('id,question,expect_all\nb1,q,"[[""unclosed"\n', encoding="utf-8")
    count, problems = import_csv(bad, tmp_path / "bad.jsonl")
    assert count == 0 and problems and not (tmp_path / "bad.jsonl").exists()


def _answer(answer_id: str, question: str) -> Answer:
    return Answer(
        answer_id=answer_id,
        answer=f"回答：{question}[1]",
        question=question,
        citations=[
            Citation(n=1, doc_id=ZIBO, title="t", section_path="一、总体要求", quote="原文", start=0, end=2)
        ],
    )


def test_export_feedback_turns_thumbs_down_into_drafts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    for answer_id, question in (
        ("a1", "淄博5G基站补贴多少？"),
        ("a2", "计划的基本原则？"),
        ("a3", "第三个问题？"),
    ):
        store.log_answer(_answer(answer_id, question))
    store.add_feedback("a1", "down", "补贴金额说错了")
    store.add_feedback("a2", "up")
    store.add_feedback("a3", "down")
    store.add_feedback("missing", "down", "answer not logged")
    store.close()
    # a second store on the same file, as the Telegram bot opens it
    FeedbackStore(tmp_path / "feedback.sqlite3").add_feedback("a3", "down", "应该拒答", "telegram:1:2")

    drafts, skipped = export_feedback(tmp_path / "feedback.sqlite3")
    assert skipped == 1
    assert [d["question"] for d in drafts] == ["淄博5G基站补贴多少？", "第三个问题？"]
    first, second = drafts
    assert first["needs_review"] is True and first["answerable"] is None
    assert first["comment"] == "补贴金额说错了" and first["answer_given"].startswith("回答：")
    assert first["citations_given"][0]["doc_id"] == ZIBO
    assert second["comment"] == "应该拒答"

    out = tmp_path / "drafts.jsonl"
    settings = Settings(data_dir=tmp_path, corpus_dir=CORPUS_DIR)
    code, text = _eval(["export-feedback", "--out", str(out)], capsys, settings=settings)
    assert code == 0 and "2 draft item(s)" in text and "1 thumbs-down" in text
    assert [json.loads(line)["id"] for _, line in iter_lines(out)] == ["fb-a1", "fb-a3"]
    with pytest.raises(DatasetError, match="needs_review"):
        load_jsonl(out, QAItem)  # a draft is not an eval item until an evaluator completes it


def test_telegram_thumbs_down_on_a_logged_telegram_answer_becomes_a_draft(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the Telegram bot writes (bot/channels/telegram/handlers.py): every answer it sends goes to the answer
    log, the 👎 button and /feedback write rows with a telegram:<chat>:<user> source."""
    telegram = FeedbackStore(tmp_path / "feedback.sqlite3")
    telegram.log_answer(_answer("tg1", "淄博新基建计划的基本原则有哪些？"))
    telegram.log_answer(_answer("tg2", "第二个问题？"))
    telegram.add_feedback("tg1", "down", "", "telegram:42:42")
    telegram.add_feedback("tg1", "comment", "漏了一条原则", "telegram:42:42")
    telegram.add_feedback("tg2", "up", "", "telegram:42:42")
    telegram.close()

    drafts, skipped = export_feedback(tmp_path / "feedback.sqlite3")
    assert skipped == 0 and len(drafts) == 1
    (draft,) = drafts
    assert draft["id"] == "fb-tg1" and draft["question"] == "淄博新基建计划的基本原则有哪些？"
    assert draft["needs_review"] is True and draft["answer_given"].startswith("回答：")
    assert draft["comment"] == "漏了一条原则"
    assert draft["feedback"]["sources"] == ["telegram:42:42"]

    out = tmp_path / "drafts.jsonl"
    settings = Settings(data_dir=tmp_path, corpus_dir=CORPUS_DIR)
    code, text = _eval(["export-feedback", "--out", str(out)], capsys, settings=settings)
    assert code == 0 and "1 draft item(s)" in text and "skipped" not in text
    assert [json.loads(line)["id"] for _, line in iter_lines(out)] == ["fb-tg1"]


def test_export_feedback_without_a_database(tmp_path: Path) -> None:
    assert export_feedback(tmp_path / "none.sqlite3") == ([], 0)
