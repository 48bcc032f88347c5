"""The local-mode benchmark without a model: the "not installed" result, the statistics, the timing of model
tokens (not of what the stream delivers first) and the report section."""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.answer import Answer
from bot.chain import FALLBACK_NOTICE
from bot.config import Settings
from evals.bench import http_bench, local_bench
from evals.bench.local_bench import (
    NOT_INSTALLED,
    ProbedGenerator,
    cached_prefix,
    measure,
    render,
    summarize,
    ttft_verdict,
)


def test_missing_model_file_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # llama_cpp present or not on this machine, the missing model is what is reported
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: object() if name == "llama_cpp" else real(name)
    )
    settings = Settings(local_model_path=tmp_path / "absent.gguf")
    result = local_bench.run(1, settings=settings, progress=lambda _: pytest.fail("nothing to run"))
    assert result["status"] == NOT_INSTALLED == "not installed (run `make local-model`)"
    assert "absent.gguf" in result["reason"]
    assert ttft_verdict(result) == (NOT_INSTALLED, "n/a")
    section = "\n".join(render(result))
    assert section.startswith("## Local mode (streaming)") and NOT_INSTALLED in section


def test_missing_llama_cpp_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name)
    )
    result = local_bench.run(6, settings=Settings(local_model_path=model), progress=lambda _: None)
    assert result["status"] == NOT_INSTALLED
    assert result["reason"] == "llama-cpp-python is not installed"
    assert result["threads"] == Settings().local_threads
    assert result["context_tokens_setting"] == Settings().local_context_tokens


def test_questions_are_fixed_answerable_factual_items() -> None:
    six = local_bench.questions(6)
    assert [q["id"] for q in six] == list(local_bench.QUESTION_IDS)
    more = local_bench.questions(10)
    assert more[:6] == six and len(more) == 10
    assert local_bench.WARM_UP_ID not in {q["id"] for q in local_bench.questions(40)}


def test_summarize_skips_missing_values() -> None:
    assert summarize([3.0, None, 1.0, math.nan, 2.0]) == {"n": 3, "median": 2.0, "min": 1.0, "max": 3.0}
    empty = summarize([None])
    assert empty["n"] == 0 and math.isnan(empty["median"])


class FakeAnswerer:
    """A local GenerativeAnswerer stand-in: three pieces, the first after a 'prompt processing' pause."""

    name = "local"
    context_budget = 700
    model = SimpleNamespace(_llama=None, max_tokens=400)

    def _messages(self, question: str, passages: Any) -> list[Any]:
        return [SimpleNamespace(content="系统提示"), SimpleNamespace(content=question)]

    def stream(self, question: str, passages: Any) -> Iterator[str]:
        time.sleep(0.05)
        yield from ("答", "案", "[1]")


class FakeService:
    """Yields a header line before the model's pieces, as a chain might, then the Answer."""

    def __init__(self, probe: ProbedGenerator, notices: list[str]) -> None:
        self.probe, self.notices = probe, notices

    def stream(self, question: str, mode: str) -> Iterator[str | Answer]:
        yield "依据：\n"
        time.sleep(0.05)  # retrieval before the model is called
        pieces = list(self.probe.stream(question, []))
        yield from pieces
        yield Answer(answer_id="a", answer="".join(pieces), mode="local", notices=self.notices)


def test_ttft_is_the_models_first_token_not_the_first_streamed_piece() -> None:
    probe = ProbedGenerator(FakeAnswerer())
    r = measure(FakeService(probe, []), probe, {"id": "q", "question": "问题？"})
    assert r["first_event_s"] < 0.04  # the header came at once
    assert r["before_model_s"] >= 0.05 and r["prefill_s"] >= 0.05 and r["ttft_s"] >= 0.1
    assert r["ttft_s"] == pytest.approx(r["before_model_s"] + r["prefill_s"])
    assert r["completion_tokens"] == 3 and r["pieces"] == 3  # no tokenizer: the pieces are counted
    assert r["decode_tps"] > 0
    assert r["passages_packed"] == 0 and r["prompt_tokens"] > 0 and r["prompt_tokens_model"] is None
    assert r["outcome"] == "generated, verified" and not r["fallback"]

    failed = FALLBACK_NOTICE.format(why="没有[n]标注")
    r = measure(FakeService(probe, [failed]), probe, {"id": "q", "question": "问题？"})
    assert r["outcome"] == "verification failed (没有[n]标注) → extractive" and r["fallback"]


def test_cached_prefix_follows_llama_cpp() -> None:
    assert cached_prefix([], [1, 2, 3]) == 0
    assert cached_prefix([1, 2, 9, 9], [1, 2, 3]) == 2  # the shared system prompt
    assert cached_prefix([1, 2, 3, 4], [1, 2, 3]) == 2  # all of it: one token is evaluated again


def _ok_result(ttfts: list[float]) -> dict[str, Any]:
    runs = [
        {"id": f"q{i}", "question": "问题？", "ttft_s": t, "decode_tps": 5.0, "completion_tokens": 40,
         "prompt_tokens": 600, "prompt_tokens_model": 450, "prompt_cached": 150, "prefill_s": 3.0,
         "prefill_tps": 100.0, "before_model_s": 0.1, "passages": 5, "passages_packed": 2,
         "total_s": t + 8, "outcome": "generated, verified", "fallback": False}
        for i, t in enumerate(ttfts)
    ]  # fmt: skip
    result = {
        "status": "ok", "model_path": "models/x.gguf", "threads": 2, "context_tokens_setting": 700,
        "max_tokens": 400, "nproc": 2, "load_before": "0.5 / 0.5 / 0.5", "load_after": "1.0 / 0.6 / 0.5",
        "load_s": 2.0, "library_warm_up_s": 3.0, "warm_up": runs[0], "runs": runs, "fallbacks": 0,
    }  # fmt: skip
    result["summary"] = {k: summarize([r.get(k) for r in runs]) for k, _, _ in local_bench.METRICS}
    return result


def test_render_gives_the_verdict_against_six_seconds() -> None:
    met = "\n".join(render(_ok_result([4.0, 5.0, 7.0])))
    assert "**Time to first token ≤ ~6 s: met (+17% vs target)**" in met
    assert "| time to first token, s | 5.00 | 4.00 | 7.00 |" in met
    assert "load average (1/5/15 min) before: 0.5 / 0.5 / 0.5, after: 1.0 / 0.6 / 0.5" in met
    assert "threads: 2" in met and "700 cl100k tokens" in met
    assert "(100.0 tokens/s) the ~6 s target leaves room for about 590 prompt tokens" in met
    assert (
        "| q0 | 问题？ | 4.00 | 3.00 | 450 (150) / 600 | 2 of 5 | 5.0 | 40 | 12.00 | generated, verified |"
        in met
    )
    missed = ttft_verdict(_ok_result([9.0, 12.0]))
    assert missed == ("median 10.50 s (9.00–12.00 s, 2 questions)", "MISSED (-75% vs target)")
    assert render(None) == ["## Local mode (streaming)", "", "Skipped (`--local-questions 0`).", ""]


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
        "## Local mode (streaming)",
        "## Retrieval benchmark (`evals/bench/retrieval_bench.py`, in-process, embedded Chroma)",
    ]
    assert "| time to first token ≤ ~6 s, `local` mode, streaming | median 4.00 s" in report
    skipped = http_bench.render(meta, [], [])  # --local-questions 0
    assert "Skipped (`--local-questions 0`)." in skipped and "`local` mode, streaming" not in skipped
