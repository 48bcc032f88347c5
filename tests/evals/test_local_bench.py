"""The local-mode benchmark without a model: the "not installed" result, the samples, outcomes and times taken
from the stream, the summary and the report section."""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answer, AnswerEvent
from bot.chain import FALLBACK_NOTICE, MODEL_REFUSED_NOTICE, TIMEOUT_NOTICE
from evals.bench import http_bench, local_bench
from evals.bench.local_bench import NOT_INSTALLED, measure, outcome, render, sample, summarize, ttft_verdict
from evals.datasets import QAItem


def test_missing_model_file_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: object() if name == "llama_cpp" else real(name)
    )
    result = local_bench.run(1, models=[str(tmp_path / "absent.gguf")], progress=lambda _: None)
    [model] = result["models"]
    assert model["status"] == NOT_INSTALLED == "not installed (run `make local-model`)"
    assert "absent.gguf" in model["reason"]
    assert ttft_verdict(result) == (NOT_INSTALLED, "n/a")
    section = "\n".join(render(result))
    assert section.startswith("## Local mode (evidence-first lead)") and NOT_INSTALLED in section


def test_missing_llama_cpp_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name)
    )
    result = local_bench.run(2, models=[str(model)], progress=lambda _: None)
    assert result["models"][0]["reason"] == "llama-cpp-python is not installed"


def test_samples_are_answerable_single_turn_and_spread_over_each_suite() -> None:
    for suite in local_bench.SUITES:
        items = sample(suite, 10)
        assert len(items) == 10 and len({i.id for i in items}) == 10
        assert all(i.answerable and not i.turns for i in items)
        assert sample(suite, 10) == items  # deterministic
    everything = sample("dev", 0)
    assert len(everything) > 100 and sample("dev", 10)[0] == everything[0]


def _answer(lead: str = "", notices: tuple[str, ...] = (), refused: bool = False) -> Answer:
    text = (
        f"{lead}\n\n依据《某文件》：\n到2026年建成机架2万个。[1]"
        if lead
        else "依据《某文件》：\n到2026年建成机架2万个。[1]"
    )
    return Answer(answer_id="a", answer=text, lead=lead, notices=list(notices), refused=refused)


def test_outcomes_come_from_the_answer() -> None:
    assert outcome(_answer("建成机架2万个[1]。"), True) == "verified"
    assert outcome(_answer(notices=(MODEL_REFUSED_NOTICE,)), True) == "declined"
    assert outcome(_answer(notices=(FALLBACK_NOTICE.format(why="与所引原文不符"),)), True) == "failed"
    assert outcome(_answer(notices=(TIMEOUT_NOTICE.format(seconds=20),)), True) == "timeout"
    unavailable = FALLBACK_NOTICE.format(why="模型服务不可用：ConnectError")
    assert outcome(_answer(notices=(unavailable,)), True) == "unavailable"
    assert outcome(_answer(refused=True), False) == "refused"


class FakeService:
    """Streams an extract at once, then the lead's pieces after a pause, then the Answer."""

    def __init__(self, lead: str) -> None:
        self.lead = lead

    def stream(self, question: str, mode: str) -> Iterator[AnswerEvent | Answer]:
        extract = _answer()
        yield AnswerEvent(kind="extract", text=extract.answer)
        time.sleep(0.1)  # prompt processing
        for piece in (self.lead[:4], self.lead[4:]):
            yield AnswerEvent(kind="lead", text=piece)
        final = _answer(self.lead)
        yield final.model_copy(update={"timings_ms": {"llm": 100.0}})


ITEM = QAItem(
    id="x1", type="factual", question="要建多少机架？", answerable=True, expect_all=[["2万"]],
    evidence=[{"doc_id": "d", "quote": "到2026年建成机架2万个"}],
)  # fmt: skip


def test_measure_times_the_extract_and_the_leads_first_piece() -> None:
    r = measure(FakeService("建成机架2万个[1]。"), ITEM)
    assert r["extract_s"] < 0.05 and r["ttft_s"] >= 0.1 and r["total_s"] >= r["ttft_s"]
    assert r["outcome"] == "verified" and r["lead"] == "建成机架2万个[1]。"
    assert r["passed"] and r["passed_extract"]


def _run(id_: str, outcome_: str, ttft: float | None, total: float, passed: bool = True) -> dict[str, Any]:
    return {
        "id": id_, "question": "问题？", "extract_s": 0.03, "ttft_s": ttft, "total_s": total, "outcome": outcome_,
        "lead": "建成[1]。" if outcome_ == "verified" else "", "notices": [], "prompt_tokens": 300,
        "completion_tokens": 30, "passed": passed, "passed_extract": passed,
    }  # fmt: skip


def test_summary_shares_are_of_the_answered_items() -> None:
    runs = [
        _run("a", "verified", 2.0, 3.0), _run("b", "verified", 4.0, 5.0), _run("c", "failed", 3.0, 4.0),
        _run("d", "refused", None, 0.04, passed=False),
    ]  # fmt: skip
    s = summarize(runs)
    assert s["items"] == 4 and s["answered"] == 3
    assert s["verified_share"] == pytest.approx(2 / 3) and s["failed_share"] == pytest.approx(1 / 3)
    assert s["declined_share"] == 0 and s["ttft_p50"] == 3.0 and s["total_p50"] == 4.0
    assert s["accuracy"] == 0.75 == s["accuracy_extract"]
    assert math.isnan(summarize([])["ttft_p50"])


def _ok_result(ttfts: list[float]) -> dict[str, Any]:
    runs = [_run(f"q{i}", "verified", t, t + 1) for i, t in enumerate(ttfts)]
    model = {
        "model": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "status": "ok", "threads": 2, "evidence_budget": 400,
        "max_tokens": 120, "lead_timeout": 20.0, "load_s": 2.0, "load_before": "0.5", "load_after": "1.0",
        "suites": {"dev": {"summary": summarize(runs), "runs": runs}}, "summary": summarize(runs),
    }  # fmt: skip
    return {"per_suite": len(runs), "nproc": 2, "models": [model]}


def test_render_gives_the_verdict_against_six_seconds() -> None:
    met = "\n".join(render(_ok_result([4.0, 5.0, 7.0])))
    assert "| qwen2.5-coder-1.5b-instruct-q4_k_m.gguf | dev | 3/3 | 100 % | 0 % | 0 % | 0 % |" in met
    assert "| 5.00 / 7.00 | 6.00 / 8.00 | 100 % / 100 % |" in met
    assert "evidence budget 400 cl100k tokens, at most 120 new tokens, lead timeout 20 s" in met
    measured, judged = ttft_verdict(_ok_result([4.0, 5.0, 7.0]))
    assert measured.startswith("p50 5.00 s, total p50 6.00 s") and judged.startswith("met")
    assert ttft_verdict(_ok_result([9.0, 12.0]))[1].startswith("MISSED")
    assert render(None) == ["## Local mode (evidence-first lead)", "", "Skipped (`--local-questions 0`).", ""]


def test_performance_report_keeps_its_sections_and_adds_the_local_one() -> None:
    meta = {
        "date": "d", "nproc": 2, "platform": "p", "python": "3.11", "load_before": "1", "load_after": "1",
        "build_s": 1.0, "max_seconds": 60, "startup_first": 2.0, "startup_all": 3.0, "peak_rss_sum": 1.0,
        "hwm": [1.0],
    }  # fmt: skip
    report = http_bench.render(meta, [], [], _ok_result([4.0]))
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Targets",
        "## Load levels (POST /v1/ask)",
        "## Per-stage breakdown (server-side `timings_ms`, p50 / p95 ms)",
        "## Local mode (evidence-first lead)",
        "## Retrieval benchmark (`evals/bench/retrieval_bench.py`, in-process, embedded Chroma)",
    ]
    assert "| lead TTFT p50 ≤ 6 s, `local` mode, streaming | p50 4.00 s" in report
    skipped = http_bench.render(meta, [], [])  # --local-questions 0
    assert "Skipped (`--local-questions 0`)." in skipped and "`local` mode, streaming" not in skipped
