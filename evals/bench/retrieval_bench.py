"""Retrieval benchmark (not a test): index build time and throughput (characters/s), index size and query latency
for the real corpus and synthetic corpora made by recombining its sections (×N), with peak memory.

    .venv/bin/python -m evals.bench.retrieval_bench --scales 1 10 100
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bot.config import Settings
from bot.library_factory import make_library
from evals.datasets import RETRIEVAL_DATASET, RetrievalItem, load_jsonl
from evals.metrics import percentile
from retrieval.chunking import chunk_document
from retrieval.documents import load_corpus

REPO = Path(__file__).resolve().parents[2]


def synthetic_corpus(target: Path, scale: int, seed: int = 7) -> int:
    """The real documents plus (scale-1) recombinations of their sections, as Markdown files."""
    documents, _ = load_corpus(REPO / "corpus")
    shutil.copytree(REPO / "corpus", target, dirs_exist_ok=True)
    sections = [c.text for d in documents for c in chunk_document(d) if not c.is_heading_only]
    rng = random.Random(seed)
    for copy in range(1, scale):
        for index, document in enumerate(documents):
            body = "\n".join(rng.sample(sections, k=min(len(sections), 8 + index)))
            (target / f"synthetic-{copy:03d}-{index}.md").write_text(
                f"---\nid: synthetic-{copy:03d}-{index}\ntitle: 合成文件{copy}-{index}（{document.title}）\n---\n{body}\n",
                encoding="utf-8",
            )
    return len(list(target.glob("*.md")))


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench(scale: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix=f"policybot-bench-{scale}x-"))
    try:
        files = synthetic_corpus(work / "corpus", scale)
        characters = sum(len(p.read_text(encoding="utf-8")) for p in (work / "corpus").rglob("*.md"))
        library = make_library(Settings(data_dir=work / "data", corpus_dir=work / "corpus"))
        started = time.perf_counter()
        report = library.build()
        build_s = time.perf_counter() - started
        queries = [item.query for item in load_jsonl(RETRIEVAL_DATASET, RetrievalItem)]
        library.search(queries[0])  # warm-up
        cold, warm = [], []
        for query in queries:
            t0 = time.perf_counter()
            library.search(query)
            cold.append((time.perf_counter() - t0) * 1000)
        for query in queries:  # repeated questions hit the query-vector cache
            t0 = time.perf_counter()
            library.search(query)
            warm.append((time.perf_counter() - t0) * 1000)
        return {
            "scale": scale,
            "files": files,
            "chunks": report.chunk_count,
            "characters": characters,
            "build_s": build_s,
            "chars_per_s": characters / build_s if build_s else 0.0,
            "index_mb": directory_size(work / "data") / 2**20,
            "p50_ms": percentile(cold, 50),
            "p95_ms": percentile(cold, 95),
            "cached_p50_ms": percentile(warm, 50),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


TABLE = [
    "| scale | files | characters | chunks | build s | characters/s | index MiB | search p50 ms | p95 ms "
    "| cached p50 ms | peak RSS MiB |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def table_row(r: dict[str, float]) -> str:
    """One scale as a row of TABLE (a failed scale: its error)."""
    if "error" in r:
        return f"| {r['scale']}× | failed: {r['error']} |||||||||| "
    return (
        f"| {r['scale']}× | {r['files']} | {r['characters']:,} | {r['chunks']} | {r['build_s']:.1f} | "
        f"{r['chars_per_s']:.0f} | {r['index_mb']:.1f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
        f"{r['cached_p50_ms']:.1f} | {r['peak_rss_mb']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    print("\n".join(TABLE))
    for scale in args.scales:
        print(table_row(bench(scale)), flush=True)


if __name__ == "__main__":
    main()
