"""Cluster benchmark (not a test), the cluster rows of `make bench`; writes evals/reports/cluster.md.

1. Answers/s through nginx with 1 and with 2 `policybot serve` replicas (PostgreSQL, Redis, Chroma server,
   answer cache off), the same bounded load as http_bench (clients × requests, a maximum duration).
2. Indexing throughput of a foreign library (law-qa, read from ../shared, first N documents): the embedded e5
   model in this process against `policybot embed-server` (the same model behind /v1/embeddings).
3. What a replica pays to follow a new version of that library: pulling its files from PostgreSQL, building
   the BM25 index from the chunks, loading the sentence vectors.

    .venv/bin/python -m evals.bench.cluster_bench [--clients 8 --requests 160] [--index-docs 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bot.cluster.locks import publish_lock
from bot.cluster.shared_index import SharedIndex
from bot.config import Settings
from bot.evidence import UnitVectors, save_sentence_vectors
from bot.library_factory import make_library
from bot.storage.database import Database
from bot.storage.registry import DocumentRegistry
from evals.bench.http_bench import load
from evals.cluster.services import EmbeddingServer, PostgresServer
from evals.cluster.topology import LocalCluster
from retrieval.index import IndexSnapshot

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "evals" / "reports" / "cluster.md"
EXTERNAL = REPO.parent / "shared" / "external" / "law-qa" / "corpus"
OPEN_API = {
    "POLICYBOT_API_KEYS": "[]",
    "POLICYBOT_RATE_LIMIT_PER_MINUTE": "0",
    "POLICYBOT_ANSWER_CACHE_SIZE": "0",  # measure answering, not the cache
}


def answers_per_second(replicas: int, clients: int, requests: int, max_seconds: float) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"policybot-cluster-bench-{replicas}-"))
    try:
        with LocalCluster(root, replicas=replicas, extra_env=OPEN_API) as cluster:
            load(cluster.url, 2, 8, max_seconds)  # warm-up
            result = load(cluster.url, clients, requests, max_seconds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result["replicas"] = replicas
    return result


def _library_dir(documents: int, into: Path) -> tuple[Path, int]:
    into.mkdir(parents=True, exist_ok=True)
    chars = 0
    for path in sorted(EXTERNAL.glob("*.md"))[:documents]:
        shutil.copy(path, into / path.name)
        chars += len(path.read_text(encoding="utf-8"))
    return into, chars


def indexing(backend: str, corpus: Path, work: Path, embed_url: str | None) -> dict:
    extra = (
        {
            "embedding_backend": "openai",
            "embedding_base_url": embed_url,
            "embedding_model": "multilingual-e5-small",
            "embedding_query_prefix": "query: ",
            "embedding_passage_prefix": "passage: ",
        }
        if embed_url
        else {}
    )
    library = make_library(Settings(data_dir=work, corpus_dir=corpus, **extra))
    library.warm_up()
    started = time.perf_counter()
    report = library.build(rebuild=True)
    build_s = time.perf_counter() - started
    save_sentence_vectors(library)
    total_s = time.perf_counter() - started
    return {
        "backend": backend,
        "chunks": report.chunk_count,
        "build_s": build_s,
        "with_sentences_s": total_s,
        "chunks_per_s": report.chunk_count / build_s if build_s else 0.0,
        "library": library,
    }


def follow_cost(library: object, work: Path) -> dict:
    """Publish the built version to a throw-away PostgreSQL, then time what a second replica does with it."""
    postgres = PostgresServer()
    try:
        postgres.start()
        database = Database(postgres.url)
        registry = DocumentRegistry(database)
        lock = publish_lock(database, work / "lock")
        source = SharedIndex(library, registry, lock=lock, shared=True)  # type: ignore[arg-type]
        version = library.layout.current_version()  # type: ignore[attr-defined]
        files = source.library.layout.version_dir(version)
        size = sum(p.stat().st_size for p in files.iterdir())
        source.push(version)
        replica = make_library(Settings(data_dir=work / "replica", corpus_dir=work / "none"))
        follower = SharedIndex(replica, registry, lock=lock, shared=True)
        started = time.perf_counter()
        follower.pull()
        pull_s = time.perf_counter() - started
        started = time.perf_counter()
        snapshot = IndexSnapshot.load(replica.layout, version)
        bm25_s = time.perf_counter() - started
        started = time.perf_counter()
        UnitVectors(replica.embeddings, model_id=replica.embedding_model).warm_up(
            snapshot, cache_dir=replica.layout.version_dir(version)
        )
        vectors_s = time.perf_counter() - started
        database.dispose()
        return {
            "bytes": size,
            "chunks": len(snapshot.chunks),
            "pull_s": pull_s,
            "bm25_s": bm25_s,
            "vectors_s": vectors_s,
        }
    finally:
        postgres.remove()


def render(meta: dict, serving: list[dict], index_rows: list[dict], follow: dict | None) -> str:
    lines = [
        "# Cluster benchmark",
        "",
        f"{meta['date']}, {meta['nproc']} cores; `python -m evals.bench.cluster_bench` (`make bench`).",
        "",
        f"## Answers/s through nginx ({meta['clients']} clients, {meta['requests']} questions, answer cache off)",
        "",
        "| replicas | answers/s | p50 ms | p95 ms | errors |",
        "|---:|---:|---:|---:|---:|",
    ]
    for run in serving:
        lines.append(
            f"| {run['replicas']} | {run['rps']:.1f} | {run['p50']:.0f} | {run['p95']:.0f} | "
            f"{run['error_rate']:.1%} |"
        )
    lines += [
        "",
        f"## Indexing {meta['documents']} law-qa documents ({meta['chars']:,} characters)",
        "",
        "| embeddings | chunks | index build s | chunks/s | with sentence vectors s |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in index_rows:
        lines.append(
            f"| {row['backend']} | {row['chunks']} | {row['build_s']:.1f} | {row['chunks_per_s']:.1f} | "
            f"{row['with_sentences_s']:.1f} |"
        )
    if follow:
        lines += [
            "",
            "## A replica following that version",
            "",
            f"{follow['chunks']} chunks, {follow['bytes'] / 1e6:.1f} MB of version files (chunks, manifest with "
            f"texts, sentence vectors): pulled from PostgreSQL in {follow['pull_s']:.2f} s, BM25 built from "
            f"the chunks in {follow['bm25_s']:.2f} s, sentence vectors loaded in {follow['vectors_s']:.2f} s.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=160)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--index-docs", type=int, default=4, help="law-qa documents to index (0 skips)")
    parser.add_argument("--output", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "clients": args.clients,
        "requests": args.requests,
        "documents": args.index_docs,
        "chars": 0,
    }
    serving = []
    for replicas in (1, 2):
        print(f"{replicas} replica(s) behind nginx …", flush=True)
        run = answers_per_second(replicas, args.clients, args.requests, args.max_seconds)
        print(
            f"  {run['rps']:.1f} answers/s, p50 {run['p50']:.0f} ms, errors {run['error_rate']:.1%}",
            flush=True,
        )
        serving.append(run)
    index_rows: list[dict] = []
    follow = None
    if args.index_docs > 0 and EXTERNAL.is_dir():
        work = Path(tempfile.mkdtemp(prefix="policybot-index-bench-"))
        try:
            corpus, meta["chars"] = _library_dir(args.index_docs, work / "corpus")
            print("indexing with the embedded model …", flush=True)
            embedded = indexing("embedded e5 (this process, 2 threads)", corpus, work / "embedded", None)
            index_rows.append(embedded)
            server = EmbeddingServer(work / "embed-server", threads=2).start()
            try:
                print("indexing through the embedding service …", flush=True)
                index_rows.append(
                    indexing(
                        "`policybot embed-server` (e5, 2 threads, batches of 64)",
                        corpus,
                        work / "remote",
                        server.url,
                    )
                )
            finally:
                server.stop()
            print("a replica following the version …", flush=True)
            follow = follow_cost(embedded["library"], work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(meta, serving, index_rows, follow), encoding="utf-8")
    rows = [{k: v for k, v in r.items() if k != "library"} for r in index_rows]
    print(
        json.dumps(
            {
                "serving": [{k: r[k] for k in ("replicas", "rps", "p50", "p95")} for r in serving],
                "indexing": rows,
                "follow": follow,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
