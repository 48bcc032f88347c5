"""HTTP benchmark (not a test): a real `policybot serve --workers 2` over a freshly built index, loaded by a
bounded generator (fixed request count and a maximum duration per level) at 1, 8 and 32 concurrent clients on
POST /v1/ask, plus the retrieval benchmark at 1x and 10x and, last, the local-mode (llama.cpp) streaming
benchmark (`evals/bench/local_bench.py`). Writes evals/reports/performance.md.

    .venv/bin/python -m evals.bench.http_bench [--requests 1:100 8:240 32:320] [--max-seconds 60]
        [--local-questions 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bot.config import Settings
from evals.bench import local_bench
from evals.bench.retrieval_bench import TABLE as retrieval_table
from evals.bench.retrieval_bench import table_row
from evals.bench.server import ServerNotReady, start_server

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "evals" / "reports" / "performance.md"
QA = REPO / "evals" / "datasets" / "qa.jsonl"
STAGES = [
    "retrieve.embed",
    "retrieve.bm25",
    "retrieve.chroma",
    "retrieve.fusion",
    "retrieve",
    "generate",
    "total",
]
TARGETS = {"p50_1": 80.0, "p95_1": 200.0, "rps_8": 25.0, "startup_s": 5.0}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def question_mix(n: int, seed: int = 11) -> list[str]:
    """First-turn questions from the QA set, drawn with a skew so popular ones repeat as in a chat."""
    rows = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [r["question"] for r in rows if not r.get("turns")]
    rng = random.Random(seed)
    weights = [1.0 / (1 + i) ** 0.8 for i in range(len(questions))]  # Zipf-like: repeats of popular questions
    rng.shuffle(questions)
    return rng.choices(questions, weights=weights, k=n)


# --- process memory from /proc (psutil is not a dependency) -------------------------------------------------


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return pids


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS = VmHWM) in MB of one process."""
    rss = hwm = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, hwm


class MemorySampler:
    """Samples the summed RSS of the server tree; also keeps each process's own VmHWM."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_sum, self.hwm = pid, 0.0, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.25)

    def sample(self) -> None:
        total = 0.0
        for p in tree(self.pid):
            rss, hwm = rss_mb(p)
            total += rss
            self.hwm[p] = max(self.hwm.get(p, 0.0), hwm)
        self.peak_sum = max(self.peak_sum, total)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


# --- server ----------------------------------------------------------------------------------------------------


def build_index(data_dir: Path) -> float:
    from bot.config import Settings
    from bot.evidence import save_sentence_vectors
    from bot.library_factory import make_library

    library = make_library(Settings(data_dir=data_dir, corpus_dir=REPO / "corpus"))
    started = time.perf_counter()
    report = library.build()
    if not report.published or report.errors:
        raise SystemExit(f"index build failed: {report.as_dict()}")
    save_sentence_vectors(library)  # as `policybot index` does
    elapsed = time.perf_counter() - started
    return elapsed


# --- load --------------------------------------------------------------------------------------------------------


def load(url: str, clients: int, requests: int, max_seconds: float) -> dict:
    questions = question_mix(requests, seed=clients)
    lock = threading.Lock()
    cursor = {"i": 0}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    refused = 0
    deadline = time.monotonic() + max_seconds

    def worker(_: int) -> None:
        nonlocal refused
        with httpx.Client(base_url=url, timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    if cursor["i"] >= len(questions):
                        return
                    question = questions[cursor["i"]]
                    cursor["i"] += 1
                t0 = time.perf_counter()
                try:
                    response = client.post("/v1/ask", json={"question": question})
                    key = str(response.status_code)
                except httpx.HTTPError as exc:
                    response, key = None, type(exc).__name__
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    statuses[key] = statuses.get(key, 0) + 1
                    if response is not None and response.status_code == 200:
                        latencies.append(elapsed)
                        body = response.json()
                        refused += bool(body.get("refused"))
                        for stage in STAGES:
                            if stage in body.get("timings_ms", {}):
                                stages[stage].append(float(body["timings_ms"][stage]))

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - started
    sent = sum(statuses.values())
    ok = statuses.get("200", 0)
    return {
        "clients": clients,
        "sent": sent,
        "ok": ok,
        "wall_s": wall,
        "stopped_by_time": sent < requests,
        "rps": ok / wall if wall else 0.0,
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "p99": pct(latencies, 99),
        "error_rate": (sent - ok) / sent if sent else 1.0,
        "statuses": statuses,
        "refused": refused,
        "stages": {s: (pct(v, 50), pct(v, 95)) for s, v in stages.items() if v},
    }


# --- report ------------------------------------------------------------------------------------------------------


def verdict(value: float, target: float, lower_is_better: bool) -> str:
    if value != value:  # NaN
        return "n/a"
    met = value <= target if lower_is_better else value >= target
    ratio = (target - value) / target if lower_is_better else (value - target) / target
    return f"{'met' if met else 'MISSED'} ({ratio:+.0%} vs target)"


def render(meta: dict, runs: list[dict], retrieval: list[dict], local: dict | None = None) -> str:
    by = {r["clients"]: r for r in runs}
    lines = [
        "# Performance report",
        "",
        f"Generated by `make bench` (`python -m evals.bench.http_bench`) on {meta['date']}.",
        "",
        f"- machine: {meta['nproc']} CPUs (`nproc`), {meta['platform']}, Python {meta['python']}",
        f"- load average (1/5/15 min) before: {meta['load_before']}, after: {meta['load_after']} "
        "(other processes share this machine; numbers are noisy when the load is above the core count)",
        "- server: `policybot serve --workers 2`, extractive mode, rate limit off "
        "(`POLICYBOT_RATE_LIMIT_PER_MINUTE=0`), `POLICYBOT_EMBEDDING_THREADS=1`, index built beforehand",
        f"- index build (real corpus, in-process): {meta['build_s']:.1f} s",
        "- load: httpx clients in threads, one keep-alive connection each, first-turn questions from "
        "`evals/datasets/qa.jsonl` drawn with Zipf-like repeats; each level stops after its request count "
        f"or {meta['max_seconds']:.0f} s",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    one, eight, many = by.get(1), by.get(8), by.get(32)
    if one:
        lines.append(f"| p50 ≤ 80 ms at 1 client | {one['p50']:.1f} ms | {verdict(one['p50'], 80, True)} |")
        lines.append(f"| p95 ≤ 200 ms at 1 client | {one['p95']:.1f} ms | {verdict(one['p95'], 200, True)} |")
    if eight:
        lines.append(
            f"| ≥ 25 answers/s at 8 clients | {eight['rps']:.1f} /s | {verdict(eight['rps'], 25, False)} |"
        )
    if many:
        errors = many["sent"] - many["ok"]
        lines.append(
            f"| no errors at 32 clients | {errors} errors of {many['sent']} | {'met' if errors == 0 else 'MISSED'} |"
        )
    lines.append(
        f"| start-up to /readyz ≤ 5 s (existing index) | {meta['startup_first']:.2f} s first worker, "
        f"{meta['startup_all']:.2f} s 10 ready in a row | {verdict(meta['startup_first'], 5, True)} |"
    )
    if local is not None:
        measured, judged = local_bench.ttft_verdict(local)
        lines.append(f"| lead TTFT p50 ≤ 6 s, `local` mode, streaming | {measured} | {judged} |")
    lines += [
        "",
        "## Load levels (POST /v1/ask)",
        "",
        "| clients | requests | 200 | wall s | answers/s | p50 ms | p95 ms | p99 ms | error rate | statuses | refused |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        stopped = " (time limit)" if r["stopped_by_time"] else ""
        lines.append(
            f"| {r['clients']} | {r['sent']}{stopped} | {r['ok']} | {r['wall_s']:.1f} | {r['rps']:.1f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['error_rate']:.1%} | "
            f"{json.dumps(r['statuses'])} | {r['refused']} |"
        )
    lines += [
        "",
        f"Peak server memory: summed RSS of the server tree {meta['peak_rss_sum']:.0f} MB; per process VmHWM: "
        + ", ".join(f"{v:.0f} MB" for v in meta["hwm"])
        + ".",
        "",
        "## Per-stage breakdown (server-side `timings_ms`, p50 / p95 ms)",
        "",
        "p50 / embed = each level's p50 end-to-end latency divided by the p50 query-embedding time "
        '(how many "embedding times" a request costs).',
        "",
        "| clients | " + " | ".join(STAGES) + " | p50 / embed |",
        "|---|" + "---|" * (len(STAGES) + 1),
    ]
    for r in runs:
        cells = [
            f"{r['stages'][s][0]:.1f} / {r['stages'][s][1]:.1f}" if s in r["stages"] else "–" for s in STAGES
        ]
        embed = r["stages"].get("retrieve.embed", (float("nan"),))[0]
        ratio = r["p50"] / embed if embed and embed == embed else float("nan")
        lines.append(f"| {r['clients']} | " + " | ".join(cells) + f" | {ratio:.1f}× |")
    lines += [
        "",
        "Cached query vectors make repeated questions skip most of `retrieve.embed`, so its p50 can be far "
        "below a cold embedding; the ratio is relative to that p50.",
        "",
        *local_bench.render(local),
        "## Retrieval benchmark (`evals/bench/retrieval_bench.py`, in-process, embedded Chroma)",
        "",
        *retrieval_table,
    ]
    lines += [table_row(b) for b in retrieval]
    lines.append("")
    return "\n".join(lines)


def measure_levels(
    url: str, pid: int, levels: list[tuple[int, ...]], max_seconds: float, meta: dict
) -> list[dict]:
    """Warm both workers up, then run each load level; peak server memory goes into `meta`."""
    runs = []
    with MemorySampler(pid) as memory:
        # warm-up: a few questions so both workers have loaded their models
        with ThreadPoolExecutor(2) as pool:
            list(
                pool.map(
                    lambda q: httpx.post(f"{url}/v1/ask", json={"question": q}, timeout=60),
                    question_mix(8, seed=99),
                )
            )
        for clients, requests in levels:
            print(f"{clients} clients × {requests} requests …", flush=True)
            result = load(url, clients, requests, max_seconds)
            print(
                f"  p50 {result['p50']:.1f} ms  p95 {result['p95']:.1f} ms  p99 {result['p99']:.1f} ms  "
                f"{result['rps']:.1f}/s  errors {result['error_rate']:.1%} {result['statuses']}",
                flush=True,
            )
            runs.append(result)
        memory.sample()
    meta["peak_rss_sum"] = memory.peak_sum
    meta["hwm"] = sorted(memory.hwm.values(), reverse=True)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", nargs="+", default=["1:100", "8:240", "32:320"], help="clients:requests"
    )
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per load level")
    parser.add_argument(
        "--scales", nargs="*", type=int, default=[1, 10, 100], help="retrieval benchmark scales"
    )
    parser.add_argument(
        "--local-questions",
        type=int,
        default=10,
        help="local-mode (llama.cpp) items per suite (dev, test, paraphrase) for every packaged model; 0 skips",
    )
    parser.add_argument("--output", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    levels = [tuple(int(x) for x in spec.split(":")) for spec in args.requests]

    meta: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_before": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "max_seconds": args.max_seconds,
    }
    retrieval: list[dict] = []
    work = Path(tempfile.mkdtemp(prefix="policybot-http-bench-"))
    runs: list[dict] = []
    local = None
    try:
        print("building the index …", flush=True)
        meta["build_s"] = build_index(work / "data")
        # the question mix repeats popular questions: measure the answering pipeline, not the answer cache
        no_cache = {"POLICYBOT_ANSWER_CACHE_SIZE": "0"}
        try:
            server = start_server(work / "data", work, extra_env=no_cache)
        except ServerNotReady as exc:
            raise SystemExit(str(exc)) from exc
        meta["startup_first"], meta["startup_all"] = server.first_ready, server.all_ready
        print(
            f"server ready in {server.first_ready:.2f} s (10 in a row after {server.all_ready:.2f} s) at "
            f"{server.url}",
            flush=True,
        )
        try:
            runs = measure_levels(server.url, server.pid, levels, args.max_seconds, meta)
        finally:
            server.stop()

        from evals.bench.retrieval_bench import bench

        for scale in args.scales:
            print(f"retrieval benchmark {scale}× …", flush=True)
            try:
                retrieval.append(bench(scale))
            except Exception as exc:
                retrieval.append({"scale": scale, "error": f"{type(exc).__name__}: {exc}"})
        # last: the model stays in this process's memory (the retrieval benchmark reports this process's peak RSS)
        if args.local_questions > 0:
            print(f"local mode: {args.local_questions} item(s) per suite, streaming …", flush=True)
            settings = Settings(data_dir=work / "data", corpus_dir=REPO / "corpus")
            local = local_bench.run(args.local_questions, settings=settings)
            for model in local["models"]:
                if model["status"] != "ok":
                    print(f"  {model['model']}: {model['status']}: {model.get('reason', '')}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    meta["load_after"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(meta, runs, retrieval, local), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
