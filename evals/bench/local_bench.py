"""Local-mode benchmark (not a test): the `local` answer mode (llama.cpp, the packaged Qwen2.5-Coder-1.5B GGUF)
streamed through `AssistantService.stream` over fixed answerable corpus questions: time to first token, decode
tokens/s, prompt size after packing, verification fallbacks. Part of `make bench`; on its own:

    .venv/bin/python -m evals.bench.local_bench [--questions 6] [--data-dir data] [--json]

Without llama-cpp-python or the model file the result says "not installed (run `make local-model`)"."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answer import Answer, Usage
from bot.config import Settings
from retrieval.retriever import Passage

REPO = Path(__file__).resolve().parents[2]
QA = REPO / "evals" / "datasets" / "qa.jsonl"
# answerable factual items over the three documents (all pass the relevance gate); more come from the rest of
# the factual items when --questions asks for more
QUESTION_IDS = ("q004", "q026", "q027", "q011", "q031", "q029")
WARM_UP_ID = "q001"
TTFT_TARGET_S = 6.0
NOT_INSTALLED = "not installed (run `make local-model`)"
PROMPT_SIZES = (
    "passages",
    "passages_packed",
    "context_tokens",
    "prompt_tokens",
    "prompt_tokens_model",
    "prompt_cached",
)
METRICS = (  # key, label, format
    ("ttft_s", "time to first token, s", "{:.2f}"),
    ("before_model_s", "… of which before the model (condense, retrieve, gate), s", "{:.2f}"),
    ("prefill_s", "… of which prompt processing (model call → first token), s", "{:.2f}"),
    (
        "prefill_tps",
        "prompt processing, tokens/s (prompt tokens not in the prefix cache / that time)",
        "{:.1f}",
    ),
    ("decode_tps", "decode, tokens/s (streaming)", "{:.1f}"),
    ("prompt_tokens_model", "prompt after packing, Qwen tokens (chat template applied)", "{:.0f}"),
    ("prompt_cached", "… of which reused from llama.cpp's prefix cache", "{:.0f}"),
    ("prompt_tokens", "prompt after packing, cl100k tokens (as `Usage.prompt_tokens` counts)", "{:.0f}"),
    ("context_tokens", "packed context, cl100k tokens", "{:.0f}"),
    ("passages_packed", "passages packed", "{:.0f}"),
    ("completion_tokens", "generated tokens", "{:.0f}"),
    ("total_s", "total per question, s", "{:.2f}"),
)


def _rows() -> dict[str, dict[str, Any]]:
    rows = (json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line.strip())
    return {r["id"]: r for r in rows}


def questions(n: int) -> list[dict[str, str]]:
    """`n` answerable factual questions from qa.jsonl: QUESTION_IDS first, then the other factual items
    (never the warm-up one)."""
    factual = {i: r["question"] for i, r in _rows().items() if r["type"] == "factual" and r.get("answerable")}
    order = [*QUESTION_IDS, *(i for i in factual if i not in QUESTION_IDS and i != WARM_UP_ID)]
    return [{"id": i, "question": factual[i]} for i in order if i in factual][:n]


def model_path(settings: Settings) -> Path:
    """The configured model file (relative to the working directory, else to this checkout)."""
    path = settings.resolved(settings.local_model_path)
    in_repo = REPO / settings.local_model_path
    if not path.is_file() and not settings.local_model_path.is_absolute() and in_repo.is_file():
        return in_repo
    return path


def missing(path: Path) -> str | None:
    """Why the local mode cannot run here, or None (llama_cpp is looked up, not imported: importing it before
    the model sets OMP_WAIT_POLICY would make its OpenMP threads spin)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed"
    if not path.is_file():
        return f"model file not found: {path}"
    return None


def summarize(values: Sequence[float | None]) -> dict[str, float]:
    """Median, min and max of the values that were measured (NaN when none were)."""
    present = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not present:
        return {"n": 0, "median": math.nan, "min": math.nan, "max": math.nan}
    return {"n": len(present), "median": statistics.median(present), "min": min(present), "max": max(present)}


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# --- measuring ---------------------------------------------------------------------------------------------------


@dataclass
class ModelCall:
    """One streamed generation, as the chain asked for it (sizes counted after it, outside the timing)."""

    called: float  # perf_counter when the chain handed the passages to the model
    passages: int
    passages_packed: int | None = None
    context_tokens: int | None = None  # cl100k, the packed passages
    prompt_tokens: int | None = None  # cl100k, system + question + packed passages (as Usage.prompt_tokens)
    prompt_tokens_model: int | None = None  # the model's own tokens after its chat template
    prompt_cached: int | None = (
        None  # leading prompt tokens llama.cpp still had evaluated (not processed again)
    )
    evaluated_before: list[int] | None = None  # the tokens in llama.cpp's context when the call came
    pieces: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


class ProbedGenerator:
    """The service's `local` GenerativeAnswerer, wrapped to time every piece when the model yields it (so the
    time to first token is the model's, whatever the stream delivers before or instead of it)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[ModelCall] = []

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        call = ModelCall(
            called=time.perf_counter(), passages=len(passages), evaluated_before=self._evaluated()
        )
        self.calls.append(call)
        try:
            for piece in self.inner.stream(question, passages):
                call.times.append(time.perf_counter())
                call.pieces.append(piece)
                yield piece
        finally:
            self._count_prompt(call, question, passages)

    def _count_prompt(self, call: ModelCall, question: str, passages: Sequence[Passage]) -> None:
        from bot.prompts import pack_context
        from retrieval.tokens import count_tokens

        context, call.passages_packed = pack_context(
            passages, self.inner.context_budget
        )  # as the answerer packs
        messages = self.inner._messages(question, passages)
        call.context_tokens = count_tokens(context)
        call.prompt_tokens = sum(count_tokens(str(m.content)) for m in messages)
        prompt = self._prompt_tokens(messages)
        if prompt is not None:
            call.prompt_tokens_model = len(prompt)
            call.prompt_cached = cached_prefix(call.evaluated_before or [], prompt)

    def generate(self, question: str, passages: Sequence[Passage]) -> tuple[str, Usage]:
        return self.inner.generate(question, passages)

    def rewrite(self, question: str, history: Sequence[Any]) -> str | None:
        return self.inner.rewrite(question, history)

    @property
    def llama(self) -> Any:
        return self.inner.model._llama  # loaded by `load()` before any timing

    def _evaluated(self) -> list[int] | None:
        try:
            return [int(t) for t in self.llama._input_ids]
        except Exception:
            return None

    def _prompt_tokens(self, messages: Sequence[Any]) -> list[int] | None:
        """The prompt as llama-cpp-python's chat handler tokenizes it (the GGUF's chat template)."""
        try:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = self.llama.metadata["tokenizer.chat_template"]
            prompt = Jinja2ChatFormatter(template=template, eos_token="", bos_token="")(
                messages=self.inner.model._convert(list(messages))
            ).prompt
            return list(self.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
        except Exception:
            return None

    def completion_tokens(self, text: str) -> int | None:
        try:
            return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        except Exception:
            return None


def cached_prefix(evaluated: Sequence[int], prompt: Sequence[int]) -> int:
    """How many leading prompt tokens llama.cpp reuses from its context (`Llama.generate`: the common prefix, one
    token less when the whole prompt is in it)."""
    common = 0
    for a, b in zip(evaluated, prompt, strict=False):
        if a != b:
            break
        common += 1
    return common - 1 if common and common == len(prompt) else common


def outcome(answer: Answer, call: ModelCall | None) -> str:
    from bot.chain import FALLBACK_NOTICE, MODEL_REFUSED_NOTICE

    notices = " ".join(answer.notices)
    if call is None:
        return "refused by the gate" if answer.refused else "no model call"
    if "模型服务不可用" in notices:
        return "model unavailable → extractive"
    before, after = FALLBACK_NOTICE.split("{why}")
    if before in notices:
        why = notices.split(before, 1)[1].split(after, 1)[0]
        return f"verification failed ({why}) → extractive"
    if MODEL_REFUSED_NOTICE in notices:
        return "model refused → extractive"
    return "generated, verified"


def measure(service: Any, probe: ProbedGenerator, item: dict[str, str]) -> dict[str, Any]:
    """Stream one question in `local` mode; the clock starts at the `stream()` call."""
    before = len(probe.calls)
    started = time.perf_counter()
    first_event = None
    answer = None
    for event in service.stream(item["question"], mode="local"):
        if isinstance(event, Answer):
            answer = event
            break
        if first_event is None:
            first_event = time.perf_counter() - started
    total = time.perf_counter() - started
    assert answer is not None
    call = probe.calls[before] if len(probe.calls) > before else None
    result: dict[str, Any] = {
        **item,
        "total_s": total,
        "first_event_s": first_event,
        "outcome": outcome(answer, call),
        "usage_prompt_tokens": answer.usage.prompt_tokens,  # 0 when streamed: the chain counts only invoke()
        "usage_completion_tokens": answer.usage.completion_tokens,
        "retrieve_ms": answer.timings_ms.get("retrieve"),
    }
    result["fallback"] = result["outcome"].endswith("→ extractive")
    if call is None:
        return result
    result.update({key: getattr(call, key) for key in PROMPT_SIZES})
    result.update(before_model_s=call.called - started, pieces=len(call.pieces))
    if call.times:
        text = "".join(call.pieces)
        tokens = probe.completion_tokens(text) or answer.usage.completion_tokens or len(call.pieces)
        span = call.times[-1] - call.times[0]
        result.update(
            ttft_s=call.times[0] - started,
            prefill_s=call.times[0] - call.called,
            prefill_tps=(
                (call.prompt_tokens_model - (call.prompt_cached or 0)) / (call.times[0] - call.called)
                if call.prompt_tokens_model and call.times[0] > call.called
                else None
            ),
            completion_tokens=tokens,
            model_text=text,  # in --json only: what the model wrote before verification
            # tokens after the first over the time from the first to the last: the decode rate
            decode_tps=(tokens - 1) / span if tokens > 1 and span > 0 else None,
        )
    return result


def run(
    n: int = 6,
    *,
    settings: Settings | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Load the model, answer one warm-up question, then stream `n` questions; the results as a dict."""
    settings = settings or Settings()
    path = model_path(settings)
    result: dict[str, Any] = {
        "questions_asked": n,
        "model_path": str(path),
        "threads": settings.local_threads,
        "context_tokens_setting": settings.local_context_tokens,
        "ttft_target_s": TTFT_TARGET_S,
        "nproc": os.cpu_count(),
        "load_before": loadavg(),
    }
    reason = missing(path)
    if reason:
        return {**result, "status": NOT_INSTALLED, "reason": reason}
    from bot.answerers.generative import LocalModelUnavailable
    from evals.cli import _make_service

    settings = settings.model_copy(update={"local_model_path": path})
    service = _make_service(settings)  # evals' own: throw-away sessions, fixed day, no answer cache
    probe = ProbedGenerator(service.generators["local"])
    service.generators["local"] = service.chain.generators["local"] = probe
    result["max_tokens"] = probe.inner.model.max_tokens
    try:
        progress("local bench: index and library warm-up …")
        started = time.perf_counter()
        service.library.ensure_built(show_progress=False)
        service.warm_up()
        result["library_warm_up_s"] = time.perf_counter() - started
        progress(f"local bench: loading {path.name} ({settings.local_threads} threads) …")
        started = time.perf_counter()
        probe.inner.model.load()
        result["load_s"] = time.perf_counter() - started
        warm = {"id": WARM_UP_ID, "question": _rows()[WARM_UP_ID]["question"]}
        progress(f"local bench: warm-up question {warm['id']} …")
        result["warm_up"] = measure(service, probe, warm)
        progress("  " + line(result["warm_up"]))
        runs = []
        for item in questions(n):
            progress(f"local bench: {item['id']} {item['question']}")
            runs.append(measure(service, probe, item))
            progress("  " + line(runs[-1]))
    except LocalModelUnavailable as exc:
        return {**result, "status": NOT_INSTALLED, "reason": str(exc), "load_after": loadavg()}
    result.update(status="ok", runs=runs, load_after=loadavg())
    result["summary"] = {key: summarize([r.get(key) for r in runs]) for key, _, _ in METRICS}
    result["fallbacks"] = sum(r["fallback"] for r in runs)
    return result


# --- report ------------------------------------------------------------------------------------------------------


def _fmt(value: Any, spec: str = "{:.2f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return spec.format(value)


def line(r: dict[str, Any]) -> str:
    """One question on one line (progress output)."""
    return (
        f"TTFT {_fmt(r.get('ttft_s'))} s (prompt processing {_fmt(r.get('prefill_s'))} s, "
        f"{_fmt(r.get('prefill_tps'), '{:.1f}')} tokens/s), "
        f"decode {_fmt(r.get('decode_tps'), '{:.1f}')} tokens/s, {_fmt(r.get('completion_tokens'), '{}')} tokens, "
        f"prompt {_fmt(r.get('prompt_tokens_model'), '{}')} Qwen ({_fmt(r.get('prompt_cached'), '{}')} cached) / "
        f"{_fmt(r.get('prompt_tokens'), '{}')} cl100k tokens, "
        f"{_fmt(r.get('passages_packed'), '{}')}/{_fmt(r.get('passages'), '{}')} passages, "
        f"total {_fmt(r.get('total_s'))} s: {r['outcome']}"
    )


def ttft_verdict(result: dict[str, Any]) -> tuple[str, str]:
    """(measured, verdict) for the Targets table."""
    if result.get("status") != "ok":
        return result.get("status", "not run"), "n/a"
    from evals.bench.http_bench import verdict

    ttft = result["summary"]["ttft_s"]
    n = f"{ttft['n']} question{'s' if ttft['n'] != 1 else ''}"
    measured = f"median {_fmt(ttft['median'])} s ({_fmt(ttft['min'])}–{_fmt(ttft['max'])} s, {n})"
    return measured, verdict(ttft["median"], TTFT_TARGET_S, True)


def budget(result: dict[str, Any]) -> str:
    """What the target allows at the measured prompt-processing rate (for sizing the packed context)."""
    rate = result["summary"]["prefill_tps"]["median"]
    before = result["summary"]["before_model_s"]["median"]
    if math.isnan(rate) or math.isnan(before):
        return ""
    allowed = max(0.0, (TTFT_TARGET_S - before) * rate)
    return (
        f" At the median prompt-processing rate measured ({rate:.1f} tokens/s) the ~{TTFT_TARGET_S:.0f} s target "
        f"leaves room for about {allowed:.0f} prompt tokens that are not in llama.cpp's prefix cache."
    )


def render(result: dict[str, Any] | None) -> list[str]:
    """The "Local mode (streaming)" section of evals/reports/performance.md (Markdown lines)."""
    lines = ["## Local mode (streaming)", ""]
    if result is None:
        return [*lines, "Skipped (`--local-questions 0`).", ""]
    if result.get("status") != "ok":
        return [*lines, f"{result.get('status')}: {result.get('reason', '')}.", ""]
    measured, judged = ttft_verdict(result)
    lines += [
        f"`evals/bench/local_bench.py`: the `local` answer mode (llama.cpp, `{Path(result['model_path']).name}`) "
        "in-process through `AssistantService.stream`, answer cache off, over "
        f"{len(result['runs'])} answerable factual question(s) from `evals/datasets/qa.jsonl`, after one warm-up "
        "question (so llama.cpp has the fixed system prompt in its prefix cache, as in a running server).",
        "",
        f"- threads: {result['threads']} (`POLICYBOT_LOCAL_THREADS`); packed context budget: "
        f"{result['context_tokens_setting']} cl100k tokens (`POLICYBOT_LOCAL_CONTEXT_TOKENS`); at most "
        f"{result['max_tokens']} new tokens; {result['nproc']} CPUs",
        f"- load average (1/5/15 min) before: {result['load_before']}, after: {result['load_after']}",
        f"- model load (before timing): {result['load_s']:.1f} s; library warm-up {result['library_warm_up_s']:.1f} s;"
        f" warm-up question: {line(result['warm_up'])}",
        "- time to first token: from the `stream()` call to the first piece the model yields (condensing, "
        "retrieval, the gate and prompt processing included); the chain streams nothing before the model's "
        "first token. Decode rate: tokens after the first over the time from the first to the last token. "
        "Tokens are the model's own (its tokenizer on the streamed text); prompt sizes are counted by calling "
        "the answerer's packing (`pack_context`), as `Answer.usage` stays empty for streamed answers.",
        "",
        f"**Time to first token ≤ ~{TTFT_TARGET_S:.0f} s: {judged}** — {measured}; "
        f"{result['fallbacks']} of {len(result['runs'])} answers fell back to the extractive answer.{budget(result)}",
        "",
        "| | median | min | max |",
        "|---|---|---|---|",
    ]
    for key, label, spec in METRICS:
        s = result["summary"][key]
        lines.append(
            f"| {label} | {_fmt(s['median'], spec)} | {_fmt(s['min'], spec)} | {_fmt(s['max'], spec)} |"
        )
    lines += [
        "",
        "| id | question | TTFT s | prompt processing s | prompt tokens: Qwen (cached) / cl100k | passages packed "
        "| decode tokens/s | tokens | total s | outcome |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['id']} | {r['question']} | {_fmt(r.get('ttft_s'))} | {_fmt(r.get('prefill_s'))} | "
            f"{_fmt(r.get('prompt_tokens_model'), '{}')} ({_fmt(r.get('prompt_cached'), '{}')}) / "
            f"{_fmt(r.get('prompt_tokens'), '{}')} | {_fmt(r.get('passages_packed'), '{}')} of "
            f"{_fmt(r.get('passages'), '{}')} | {_fmt(r.get('decode_tps'), '{:.1f}')} | "
            f"{_fmt(r.get('completion_tokens'), '{}')} | {_fmt(r.get('total_s'))} | {r['outcome']} |"
        )
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=6, help="timed questions after the warm-up")
    parser.add_argument(
        "--data-dir", type=Path, help="index directory (default: POLICYBOT_DATA_DIR or data/)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of Markdown")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()
    result = run(args.questions, settings=settings, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else "\n".join(render(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
