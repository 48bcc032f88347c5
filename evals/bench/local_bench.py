"""Local-mode benchmark (not a test): the evidence-first lead of the `local` answer mode (llama.cpp, the packaged
Qwen2.5-Coder GGUF models) streamed through `AssistantService.stream` over answerable single-turn items of the dev
set, the frozen test split and the paraphrase suite. Per model: how often the model's lead passes verification,
declines, fails or times out; time to the extract, to the lead's first token and to the end; and accuracy of the
whole reply beside the extract alone. Part of `make bench`; on its own:

    .venv/bin/python -m evals.bench.local_bench [--models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b]
        [--per-suite 20] [--json]

A model whose file is missing is reported as "not installed (run `make local-model`)"."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.answer import Answer, AnswerEvent
from bot.config import Settings
from evals.datasets import ParaphraseItem, QAItem, load_jsonl

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "evals" / "datasets"
SUITES: dict[str, tuple[str, type[QAItem]]] = {
    "dev": ("qa.jsonl", QAItem),
    "test": ("qa_test.jsonl", QAItem),
    "paraphrase": ("paraphrases.jsonl", ParaphraseItem),
}
TTFT_TARGET_S = 6.0
TOTAL_TARGET_S = 12.0
VERIFIED_TARGET = 0.90
DECLINED_TARGET = 0.05
NOT_INSTALLED = "not installed (run `make local-model`)"
OUTCOMES = ("verified", "declined", "failed", "timeout", "unavailable")


def sample(suite: str, n: int) -> list[QAItem]:
    """`n` answerable single-turn items of a suite, spread evenly over the file (deterministic)."""
    name, model = SUITES[suite]
    items = [i for i in load_jsonl(DATASETS / name, model) if i.answerable and not i.turns]
    if n <= 0 or n >= len(items):
        return items
    step = len(items) / n
    return [items[int(k * step)] for k in range(n)]


def missing(path: Path) -> str | None:
    """Why the local mode cannot run here, or None (llama_cpp is looked up, not imported: importing it before
    the model sets OMP_WAIT_POLICY would make its OpenMP threads spin)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed"
    if not path.is_file():
        return f"model file not found: {path}"
    return None


def percentile(values: Iterable[float | None], q: float) -> float:
    present = sorted(float(v) for v in values if v is not None and not math.isnan(v))
    if not present:
        return math.nan
    if q == 50:
        return statistics.median(present)
    return present[min(len(present) - 1, math.ceil(q / 100 * len(present)) - 1)]


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# --- measuring ---------------------------------------------------------------------------------------------------


def outcome(answer: Answer, asked: bool) -> str:
    """What became of the model's lead (from the Answer and its notices)."""
    from bot.chain import MODEL_REFUSED_NOTICE, TIMEOUT_NOTICE

    if answer.refused:
        return "refused"
    if answer.lead:
        return "verified"
    if not asked:
        return "not asked"
    notices = " ".join(answer.notices)
    if "模型服务不可用" in notices:
        return "unavailable"
    if TIMEOUT_NOTICE.split("{")[0] in notices:
        return "timeout"
    if MODEL_REFUSED_NOTICE in notices:
        return "declined"
    return "failed"  # FALLBACK_NOTICE: the lead did not pass its check


def measure(service: Any, item: QAItem, mode: str = "local") -> dict[str, Any]:
    """Stream one question; the clock starts at the `stream()` call. Scores the whole reply and, beside it, the
    extract alone (what the extractive default would have shown)."""
    from evals.qa_eval import score_item

    started = time.perf_counter()
    extract_s = lead_s = None
    extract: AnswerEvent | None = None
    answer: Answer | None = None
    for event in service.stream(item.question, mode=mode):
        now = time.perf_counter() - started
        if isinstance(event, Answer):
            answer = event
        elif event.kind == "extract":
            extract, extract_s = event, now
        elif event.kind == "lead" and lead_s is None:
            lead_s = now
    total = time.perf_counter() - started
    assert answer is not None and extract is not None
    alone = answer.model_copy(update={"answer": extract.text, "lead": ""})
    asked = "llm" in answer.timings_ms
    return {
        "id": item.id,
        "question": item.question,
        "extract_s": extract_s,
        "ttft_s": lead_s,
        "total_s": total,
        "outcome": outcome(answer, asked),
        "lead": answer.lead,
        "notices": [n for n in answer.notices if "生成式" in n],
        "prompt_tokens": answer.usage.prompt_tokens,
        "completion_tokens": answer.usage.completion_tokens,
        "passed": score_item(item, answer, total * 1000).passed,
        "passed_extract": score_item(item, alone, total * 1000).passed,
    }


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Shares over the items whose extract answered (the model is asked only then), times over all."""
    answered = [r for r in runs if r["outcome"] != "refused"]
    n = len(answered)
    share = {o: (sum(r["outcome"] == o for r in answered) / n if n else math.nan) for o in OUTCOMES}
    return {
        "items": len(runs),
        "answered": n,
        **{f"{o}_share": v for o, v in share.items()},
        "ttft_p50": percentile((r["ttft_s"] for r in answered), 50),
        "ttft_p90": percentile((r["ttft_s"] for r in answered), 90),
        "total_p50": percentile((r["total_s"] for r in answered), 50),
        "total_p90": percentile((r["total_s"] for r in answered), 90),
        "extract_p50": percentile((r["extract_s"] for r in runs), 50),
        "accuracy": sum(r["passed"] for r in runs) / len(runs) if runs else math.nan,
        "accuracy_extract": sum(r["passed_extract"] for r in runs) / len(runs) if runs else math.nan,
        "prompt_tokens_p50": percentile((r["prompt_tokens"] for r in answered), 50),
        "completion_tokens_p50": percentile((r["completion_tokens"] for r in answered), 50),
    }


def model_paths(names: Sequence[str]) -> list[Path]:
    """Packaged model keys (`bot.local_model.MODELS`) or GGUF paths, relative to this checkout."""
    from bot.local_model import MODELS

    paths = []
    for name in names:
        path = MODELS[name].path if name in MODELS else Path(name)
        paths.append(path if path.is_absolute() else REPO / path)
    return paths


def run_model(
    path: Path,
    suites: dict[str, list[QAItem]],
    *,
    settings: Settings,
    temperature: float = 0.0,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "model": path.name,
        "threads": settings.local_threads,
        "temperature": temperature,
        "load_before": loadavg(),
    }
    reason = missing(path)
    if reason:
        return {**result, "status": NOT_INSTALLED, "reason": reason}
    from bot.answerers.generative import LocalModelUnavailable
    from evals.cli import _make_service

    service = _make_service(settings.model_copy(update={"local_model_path": path}))
    generator = service.generators["local"]
    generator.model.temperature = temperature  # greedy (0, the default) or sampled decoding
    result.update(
        evidence_budget=generator.evidence_budget,
        max_tokens=generator.max_tokens,
        lead_timeout=service.chain.lead_timeout,
    )
    try:
        service.library.ensure_built(show_progress=False)
        service.warm_up()
        started = time.perf_counter()
        generator.model.load()
        result["load_s"] = time.perf_counter() - started
        # one warm-up question, so llama.cpp holds the fixed prefix (instruction + example) as in a running server
        measure(service, sample("dev", 1)[0])
        result["suites"] = {}
        for suite, items in suites.items():
            runs = []
            for item in items:
                runs.append(measure(service, item))
                r = runs[-1]
                progress(
                    f"  {path.name} {suite} {item.id}: {r['outcome']}, TTFT {_fmt(r['ttft_s'])} s, "
                    f"total {_fmt(r['total_s'])} s, {'pass' if r['passed'] else 'miss'} | {r['lead'][:60]}"
                )
            result["suites"][suite] = {"summary": summarize(runs), "runs": runs}
    except LocalModelUnavailable as exc:
        return {**result, "status": NOT_INSTALLED, "reason": str(exc)}
    finally:
        del service, generator
    all_runs = [r for s in result["suites"].values() for r in s["runs"]]
    result.update(status="ok", summary=summarize(all_runs), load_after=loadavg())
    return result


def run(
    per_suite: int = 10,
    *,
    models: Sequence[str] | None = None,
    settings: Settings | None = None,
    temperature: float = 0.0,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Every model over the same sample of each suite."""
    from bot.local_model import MODELS

    settings = settings or Settings()
    suites = {name: sample(name, per_suite) for name in SUITES}
    results = []
    for path in model_paths(models or list(MODELS)):
        progress(f"local bench: {path.name}, {sum(map(len, suites.values()))} items …")
        results.append(run_model(path, suites, settings=settings, temperature=temperature, progress=progress))
    return {"per_suite": per_suite, "nproc": os.cpu_count(), "models": results}


# --- report ------------------------------------------------------------------------------------------------------


def _fmt(value: Any, spec: str = "{:.2f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return spec.format(value)


def _pct(value: float) -> str:
    return _fmt(value * 100 if not math.isnan(value) else value, "{:.0f} %")


def chosen(result: dict[str, Any], settings: Settings | None = None) -> dict[str, Any] | None:
    """The measured model that `POLICYBOT_LOCAL_MODEL_PATH` selects (else the first measured)."""
    ok = [m for m in result.get("models", []) if m.get("status") == "ok"]
    name = (settings or Settings()).local_model_path.name
    return next((m for m in ok if m["model"] == name), ok[0] if ok else None)


def ttft_verdict(result: dict[str, Any]) -> tuple[str, str]:
    """(measured, verdict) for the Targets table: the configured model's lead TTFT p50."""
    model = chosen(result)
    if model is None:
        statuses = {m.get("status") for m in result.get("models", [])} or {"not run"}
        return ", ".join(sorted(s for s in statuses if s)), "n/a"
    from evals.bench.http_bench import verdict

    s = model["summary"]
    measured = f"p50 {_fmt(s['ttft_p50'])} s, total p50 {_fmt(s['total_p50'])} s ({model['model']}, {s['answered']} items)"
    return measured, verdict(s["ttft_p50"], TTFT_TARGET_S, True)


def render(result: dict[str, Any] | None) -> list[str]:
    """The "Local mode (evidence-first lead)" section of evals/reports/performance.md (Markdown lines)."""
    lines = ["## Local mode (evidence-first lead)", ""]
    if result is None:
        return [*lines, "Skipped (`--local-questions 0`).", ""]
    lines += [
        "`evals/bench/local_bench.py`: the `local` answer mode through `AssistantService.stream`, answer cache off, "
        f"over {result['per_suite']} answerable single-turn items from each of the dev set, the frozen test split "
        "and the paraphrase suite (the same items for every model), after one warm-up question. The extract is "
        "shown at once; the model gets only the extract's sentences and writes a one- or two-sentence lead. "
        "Shares are of the items the extract answered (the model is asked only then); TTFT is from the "
        "`stream()` call to the lead's first token; accuracy scores the whole reply (lead + extract) beside the "
        f"extract alone. {result['nproc']} CPUs.",
        "",
        "| model | suite | items | verified | declined | failed | timeout | extract p50 s | TTFT p50 / p90 s "
        "| total p50 / p90 s | accuracy: reply / extract alone |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model in result["models"]:
        if model.get("status") != "ok":
            lines.append(
                f"| {model['model']} | – | {model.get('status')}: {model.get('reason', '')} |||||||||"
            )
            continue
        rows = [*((k, v["summary"]) for k, v in model["suites"].items()), ("**all**", model["summary"])]
        for suite, s in rows:
            lines.append(
                f"| {model['model']} | {suite} | {s['answered']}/{s['items']} | {_pct(s['verified_share'])} | "
                f"{_pct(s['declined_share'])} | {_pct(s['failed_share'])} | {_pct(s['timeout_share'])} | "
                f"{_fmt(s['extract_p50'], '{:.3f}')} | {_fmt(s['ttft_p50'])} / {_fmt(s['ttft_p90'])} | "
                f"{_fmt(s['total_p50'])} / {_fmt(s['total_p90'])} | "
                f"{_pct(s['accuracy'])} / {_pct(s['accuracy_extract'])} |"
            )
    for model in result["models"]:
        if model.get("status") != "ok":
            continue
        lines += [
            "",
            f"{model['model']}: {model['threads']} threads, temperature {model.get('temperature', 0.0):g}"
            f"{' (greedy)' if not model.get('temperature') else ''}, evidence budget {model['evidence_budget']} cl100k tokens, "
            f"at most {model['max_tokens']} new tokens, lead timeout {model['lead_timeout']:g} s, model load "
            f"{model['load_s']:.1f} s; load average before {model['load_before']}, after {model['load_after']}. "
            f"Prompt p50 {_fmt(model['summary']['prompt_tokens_p50'], '{:.0f}')} cl100k tokens, lead p50 "
            f"{_fmt(model['summary']['completion_tokens_p50'], '{:.0f}')} tokens.",
        ]
        examples = [r for s in model["suites"].values() for r in s["runs"] if r["lead"]][:3]
        for r in examples:
            lines.append(f"- {r['id']} {r['question']} → {r['lead']}")
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    from bot.local_model import MODELS

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--per-suite", type=int, default=10, help="items per suite (0 = all answerable)")
    parser.add_argument(
        "--models", default=",".join(MODELS), help=f"comma-separated: {', '.join(MODELS)} or GGUF paths"
    )
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default POLICYBOT_LOCAL_THREADS)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (the default)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of Markdown")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.threads:
        settings = settings.model_copy(update={"local_threads": args.threads})
    result = run(
        args.per_suite,
        models=[m for m in args.models.split(",") if m],
        settings=settings,
        temperature=args.temperature,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else "\n".join(render(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
