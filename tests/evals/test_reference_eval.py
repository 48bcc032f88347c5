"""Bring-your-own-corpus evaluation: the reference scorers (known values), the reference-answer format, the
corpus units and the evidence-removed / plain-files writers, and `policybot eval --corpus` end to end on a tiny
corpus written here (no front matter)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import Settings
from evals.cli import run_eval
from evals.corpus_tools import (
    text_units,
    unit_spans,
    units_holding,
    write_plain_files,
    write_without_units,
)
from evals.datasets import DatasetError
from evals.external import choose_evidence_items
from evals.metrics import answer_text, contains_reference, lcs_length, reference_form, rouge_l_f1
from evals.reference import load_reference


# -- scorers ---------------------------------------------------------------------------------------------
def test_lcs_and_rouge_l_known_values() -> None:
    assert lcs_length("ABCD", "AXBYD") == 3
    assert lcs_length("", "abc") == 0
    # LCS 3: precision 3/5, recall 3/4 → F1 = 2·0.6·0.75 / 1.35
    assert rouge_l_f1("ABCD", "AXBYD") == pytest.approx(2 / 3)
    # reference inside a longer answer: recall 1, precision 7/15
    assert rouge_l_f1("第一审民事案件", "基层人民法院管辖第一审民事案件") == pytest.approx(14 / 22)
    assert rouge_l_f1("甲乙", "丙丁") == 0.0
    assert rouge_l_f1("", "甲") == 0.0 and rouge_l_f1("甲", "") == 0.0


def test_normalisation_folds_width_script_whitespace_and_punctuation() -> None:
    assert reference_form("（一）在全国有重大影響的案件； ") == "一在全国有重大影响的案件"
    assert reference_form("ＡＢＣ １２３。") == "abc123"
    assert rouge_l_f1("（一）重大涉外案件", "一、重大涉外案件") == 1.0


def test_containment_ignores_markers_and_source_lines() -> None:
    answer = "依据《中华人民共和国民事诉讼法》（第十七条）：\n基层人民法院管辖第一审民事[1]案件，但本法另有规定的除外。[2]"
    assert answer_text(answer).startswith("\n基层")
    assert contains_reference(answer, "第一审民事案件")
    assert contains_reference(answer, "第一審民事案件。")  # traditional, punctuation
    assert not contains_reference(answer, "中华人民共和国民事诉讼法")  # only in the source line
    assert not contains_reference(answer, "第二审民事案件")
    assert not contains_reference(answer, "，。")  # nothing left after normalisation


# -- the reference format ------------------------------------------------------------------------------
def test_reference_items_load_with_defaults_and_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "ref.jsonl"
    path.write_text(
        '{"id": "a", "question": "问一？", "answer": "答一", "question_type": "什么", "answer_verbatim_in_corpus": true}\n'
        "\n"
        '{"question": "问二？", "answer": "答二", "answerable": false, "doc_id": "d1"}\n',
        encoding="utf-8",
    )
    items = load_reference(path)
    assert [i.id for i in items] == ["a", "line3"]
    assert items[0].extra == {"question_type": "什么", "answer_verbatim_in_corpus": True}
    assert items[0].answerable and not items[1].answerable and items[1].doc_id == "d1"
    assert [i.id for i in load_reference(path, limit=1)] == ["a"]


def test_bad_reference_lines_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "a", "question": "问？", "answer": "答"}\n'
        '{"id": "b", "question": "问？"}\n'
        "not json\n"
        '{"id": "a", "question": "问？", "answer": "答"}\n'
        '["a list"]\n',
        encoding="utf-8",
    )
    with pytest.raises(DatasetError) as caught:
        load_reference(path)
    problems = caught.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("line 2: answer: Field required")
    assert problems[1].startswith("line 3: invalid JSON")
    assert problems[2] == "line 4: duplicate id 'a' (first on line 1)"
    assert problems[3] == "line 5: expected a JSON object"


# -- corpus units and copies ---------------------------------------------------------------------------
LAW = (
    "---\nid: law-x\ntitle: 测试法\n---\n"
    "第一条 为了规范管理，制定本法。\n"
    "第二条 入园企业应当每年提交年度报告。第二章 审核\n"
    "第三条 审核期限为二十个工作日。\n"
)


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "law.md").write_text(LAW, encoding="utf-8")
    (corpus / "notes.txt").write_text("补贴说明\n\n博士补贴十万元。\n\n硕士补贴五万元。\n", encoding="utf-8")
    return corpus


def test_units_are_articles_or_paragraphs(tmp_path: Path) -> None:
    body = "前言\n第一条 甲。\n第二条 乙。\n丙。\n"
    assert [body[a:b] for a, b in unit_spans(body)] == ["前言\n", "第一条 甲。\n", "第二条 乙。\n丙。\n"]
    paragraphs = "一段。\n\n二段，\n续。\n\n三段。"
    assert [paragraphs[a:b].strip() for a, b in unit_spans(paragraphs)] == [
        "一段。",
        "二段，\n续。",
        "三段。",
    ]
    lines = "甲\n乙\n"
    assert [lines[a:b] for a, b in unit_spans(lines)] == ["甲\n", "乙\n"]
    units = text_units(_corpus(tmp_path))
    assert [u.text.strip()[:3] for u in units] == ["第一条", "第二条", "第三条", "补贴说", "博士补", "硕士补"]


def test_references_are_found_in_the_minimal_units(tmp_path: Path) -> None:
    units = text_units(_corpus(tmp_path))
    assert [u.text[:3] for u in units_holding(units, "二十个工作日")] == ["第三条"]
    # across two articles: both units, nothing more
    assert [u.text[:3] for u in units_holding(units, "第二章审核第三条审核期限")] == ["第二条", "第三条"]
    assert units_holding(units, "没有这句话") == []


def test_evidence_removed_copy_drops_only_the_unit_holding_the_answer(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    units = text_units(corpus)
    removed = units_holding(units, "二十个工作日") + units_holding(units, "十万元")
    out = tmp_path / "copy"
    assert write_without_units(corpus, out, removed) == 2
    law = (out / "law.md").read_text(encoding="utf-8")
    assert law.startswith("---\nid: law-x\ntitle: 测试法\n---\n")  # front matter kept
    assert "二十个工作日" not in law and "第三条" not in law
    assert "第一条 为了规范管理，制定本法。\n第二条 入园企业应当每年提交年度报告。第二章 审核\n" in law
    notes = (out / "notes.txt").read_text(encoding="utf-8")
    assert "十万元" not in notes and "硕士补贴五万元。" in notes and notes.startswith("补贴说明")
    assert units_holding(text_units(out), "二十个工作日") == []


def test_plain_files_are_one_unit_each_without_front_matter(tmp_path: Path) -> None:
    out = tmp_path / "plain"
    assert write_plain_files(_corpus(tmp_path), out) == 6
    files = sorted(p.name for p in out.iterdir())
    assert files[:3] == ["law-0001.txt", "law-0002.txt", "law-0003.txt"]
    assert (out / "law-0001.txt").read_text(encoding="utf-8") == "第一条 为了规范管理，制定本法。\n"
    assert not any("---" in p.read_text(encoding="utf-8") for p in out.iterdir())


def test_evidence_items_are_chosen_deterministically(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    rows = [
        {"id": "a", "question": "q", "answer": "二十个工作日"},
        {"id": "b", "question": "q", "answer": "十万元"},
        {"id": "c", "question": "q", "answer": "五万元", "answer_verbatim_in_corpus": False},
        {"id": "d", "question": "q", "answer": "不在语料里"},
        {"id": "e", "question": "q", "answer": "年度报告", "answerable": False},
        {"id": "f", "question": "q", "answer": "制定本法"},
    ]
    path = tmp_path / "ref.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    items = load_reference(path)
    chosen, eligible = choose_evidence_items(items, corpus, 2, seed=16)
    assert eligible == 3  # a, b, f: answerable, verbatim, in few units
    again, _ = choose_evidence_items(items, corpus, 2, seed=16)
    assert [i.id for i, _ in chosen] == [i.id for i, _ in again] and len(chosen) == 2
    everything, _ = choose_evidence_items(items, corpus, 10, seed=1)
    assert [i.id for i, _ in everything] == ["a", "b", "f"]


def test_an_answer_the_front_matter_holds_is_not_removable(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    # the title is in the front matter as well as in the text: removing the text leaves the header to quote
    (corpus / "law.md").write_text(LAW.replace("第一条 为了", "测试法\n第一条 为了"), encoding="utf-8")
    rows = [
        {"id": "t", "question": "q", "answer": "测试法"},
        {"id": "a", "question": "q", "answer": "二十个工作日"},
    ]
    path = tmp_path / "ref.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    chosen, eligible = choose_evidence_items(load_reference(path), corpus, 10, seed=1)
    assert eligible == 1 and [i.id for i, _ in chosen] == ["a"]


# -- policybot eval --corpus, end to end -----------------------------------------------------------------
TINY = {
    "rules.txt": "示范园区管理办法\n\n第一条 为了规范示范园区的管理，制定本办法。\n"
    "第二条 示范园区的入园企业应当每年提交一次年度报告。\n第三条 园区管理委员会负责审核入园申请，审核期限为二十个工作日。\n",
    "subsidy.txt": "人才补贴说明\n\n引进的博士研究生每人一次性发放安家补贴十万元。\n\n"
    "引进的硕士研究生每人一次性发放安家补贴五万元。\n\n补贴资金由市财政局统一拨付。\n",
    "parking.txt": "停车场收费规定\n\n第一条 停车场白天每小时收费三元。\n第二条 夜间停车每晚收费十元。\n",
}
TINY_QA = [
    {
        "id": "t1",
        "question": "入园申请的审核期限是多久？",
        "answer": "二十个工作日",
        "question_type": "什么时候",
    },
    {"id": "t2", "question": "引进的博士研究生安家补贴是多少？", "answer": "十万元", "question_type": "什么"},
    {"id": "t3", "question": "白天停车每小时收费多少？", "answer": "每小时收费三元", "question_type": "什么"},
]


def test_policybot_eval_corpus_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in TINY.items():
        (corpus / name).write_text(text, encoding="utf-8")
    dataset = tmp_path / "qa.jsonl"
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in TINY_QA), encoding="utf-8")
    user_data = tmp_path / "user-data"
    argv = ["eval", "--corpus", str(corpus), "--dataset", str(dataset), "--evidence-removed", "1"]
    argv += ["--reports-dir", str(tmp_path / "reports"), "--no-progress", "--json"]
    code = run_eval(build_parser().parse_args(argv), Settings(data_dir=user_data))
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert not user_data.exists()  # the user's data directory is never touched
    metrics = out["metrics"]
    assert metrics["n"] == 3
    for key in ("contained", "rouge_l", "refusal_rate", "top_passage_contained", "top_passage_rouge_l"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["p50_ms"] > 0 and out["index"]["documents"] == 3
    assert 0 < out["index"]["characters"] <= sum(len(t) for t in TINY.values())
    assert out["index"]["chars_per_second"] > 0
    # the top passage of a three-chunk corpus holds these short references
    assert metrics["top_passage_contained"] == 1.0
    assert out["evidence_removed"]["n"] == 1 and out["evidence_removed"]["still_present"] == []
    assert "refused_when_evidence_removed" in metrics
    report = json.loads((Path(out["reports"]) / "report.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in report["items"]] == ["t1", "t2", "t3"]
    assert report["items"][0]["fields"] == {"question_type": "什么时候"}
    assert set(report["by_group"]["question_type"]) == {"什么", "什么时候"}
    assert len(report["evidence_removed"]["items"]) == 1
    assert "## External corpus" in (Path(out["reports"]) / "report.md").read_text(encoding="utf-8")


def test_corpus_needs_exactly_one_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["eval", "--corpus", str(tmp_path)])
    assert run_eval(args, Settings(data_dir=tmp_path / "d")) == 2
    assert "--dataset" in capsys.readouterr().err
