"""The optional LLM-judge faithfulness against a real OpenAI-compatible HTTP server (tests/support)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answerers.generative import GenerativeAnswerer, openai_chat_model
from bot.config import Settings
from evals.judge import LLMJudge, judge_for, parse_verdicts, statements_of
from evals.qa_eval import QAItemResult, evaluate_qa, summarize
from retrieval.library import PolicyLibrary
from tests.evals.conftest import make_service
from tests.support.fake_openai import FakeOpenAI


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _model(fake: FakeOpenAI):  # type: ignore[no-untyped-def]
    return openai_chat_model(Settings(llm_base_url=fake.base_url, llm_model="judge", llm_timeout=5.0))


def _result(answer: str) -> QAItemResult:
    citation = {
        "n": 1,
        "doc_id": "d",
        "title": "t",
        "doc_number": "",
        "section_path": "s",
        "quote": "原文甲。原文乙。",
        "start": 0,
        "end": 8,
        "score": 0.0,
    }
    return QAItemResult("x", "factual", "问", True, False, True, [], answer, [citation], 1, 1, 0, 0, 1.0)


def test_statements_and_verdict_parsing() -> None:
    assert statements_of("依据《计划》：\n第一句话很长[1]。第二句话也长[2]！") == [
        "第一句话很长。",
        "第二句话也长！",
    ]
    assert parse_verdicts('好的：{"verdicts": [1, 0]}', 2) == [True, False]
    assert parse_verdicts("[true, false, 1]", 3) == [True, False, True]
    assert parse_verdicts('{"verdicts": [1]}', 2) is None
    assert parse_verdicts("无法判断", 1) is None


def test_judge_scores_the_share_of_supported_statements(fake: FakeOpenAI) -> None:
    judge = LLMJudge(_model(fake))
    fake.replies = ['{"verdicts": [1, 0]}', "not json"]
    score, rows = judge(_result("依据：\n第一句话很长[1]。第二句话也长[1]。"))
    assert score == 0.5 and [r["supported"] for r in rows] == [True, False]
    prompt = fake.requests[-1]["body"]["messages"][-1]["content"]
    assert "原文甲" in prompt and "第二句话也长" in prompt
    assert judge(_result("依据：\n第一句话很长[1]。")) == (None, []) and judge.errors == 1


def test_judge_runs_beside_the_other_metrics_only_with_an_endpoint(
    built_library: PolicyLibrary, fake: FakeOpenAI, tmp_path: Path, subset_datasets: tuple[Path, Path]
) -> None:
    plain = make_service(built_library, tmp_path)
    assert judge_for(plain) is None
    service = make_service(built_library, tmp_path / "judged")
    service.generators["openai"] = GenerativeAnswerer("openai", _model(fake), 1200)
    judge = judge_for(service)
    assert judge is not None
    qa, _ = subset_datasets
    items = [json.loads(line) for line in qa.read_text(encoding="utf-8").splitlines()][:3]
    path = tmp_path / "three.jsonl"
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    plain_results = evaluate_qa(plain, path, show_progress=False)
    answered = [r for r in plain_results if not r.refused]
    assert answered, "the subset's first items are answerable"
    # the extractive answers are deterministic: queue one all-supported verdict list per answered item
    fake.replies = [
        '{"verdicts": [' + ", ".join(["1"] * len(statements_of(r.answer))) + "]}" for r in answered
    ]
    results = evaluate_qa(service, path, mode="extractive", show_progress=False, judge=judge)
    assert judge.errors == 0 and len(fake.requests) == len(answered)
    assert [r.judge_faithfulness for r in results if not r.refused] == [1.0] * len(answered)
    summary = summarize(results)
    assert summary["judge_faithfulness"] == 1.0 and summary["judge_items"] == len(answered)
    # beside, never instead of, the deterministic metrics
    assert {k: v for k, v in summary.items() if not k.startswith(("judge", "p50", "p95"))} == {
        k: v for k, v in summarize(plain_results).items() if not k.startswith(("judge", "p50", "p95"))
    }
