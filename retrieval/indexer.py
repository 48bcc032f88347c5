"""Builds the index: incremental (content hashes) and atomic (a new version is published only when complete)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from retrieval.chunking import Chunk, chunk_document, index_format
from retrieval.documents import LoadError, PolicyDocument
from retrieval.index import IndexLayout
from retrieval.store import ChromaStore

EMBED_BATCH = 16


@dataclass
class BuildReport:
    version: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    chunk_count: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0
    published: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            "chunk_count": self.chunk_count,
            "embedded_chunks": self.embedded_chunks,
            "seconds": round(self.seconds, 3),
            "published": self.published,
        }


@contextmanager
def build_lock(layout: IndexLayout) -> Iterator[None]:
    """One builder at a time across processes (CLI, API workers)."""
    layout.root.mkdir(parents=True, exist_ok=True)
    with layout.lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_version() -> str:
    return f"v{time.time_ns():x}"


class IndexBuilder:
    def __init__(
        self,
        layout: IndexLayout,
        store: ChromaStore,
        *,
        max_tokens: int,
        embedding_model: str,
        show_progress: bool = False,
        before_publish: Callable[[str], None] | None = None,
        embed_batch: int = EMBED_BATCH,
    ) -> None:
        self.layout = layout
        self.store = store
        self.max_tokens = max_tokens
        self.embedding_model = embedding_model
        self.show_progress = show_progress
        self._before_publish = before_publish  # a seam for crash tests
        self.embed_batch = max(1, embed_batch)  # texts per embeddings call (a remote service wants more)

    def _settings_key(self) -> dict[str, Any]:
        return {
            **index_format(),
            "max_tokens": self.max_tokens,
            "embedding_model": self.embedding_model,
        }

    def built_alike(self, version: str) -> bool:
        """True when `version` was built by this reader, chunker, budget and embedding model (else a start-up
        rebuilds it, so an upgrade never serves documents read the old way)."""
        try:
            manifest = self.layout.read_manifest(version)
        except (OSError, ValueError):
            return False
        return {k: manifest.get(k) for k in self._settings_key()} == self._settings_key()

    def build(
        self, documents: Sequence[PolicyDocument], errors: Sequence[LoadError] = (), rebuild: bool = False
    ) -> BuildReport:
        """Index exactly `documents`; unchanged ones keep their vectors, the rest are (re)embedded."""
        started = time.perf_counter()
        with build_lock(self.layout):
            report = self._build_locked(documents, rebuild)
        report.errors = list(errors)
        report.seconds = time.perf_counter() - started
        return report

    def _build_locked(self, documents: Sequence[PolicyDocument], rebuild: bool) -> BuildReport:
        current = self.layout.current_version()
        old_docs: dict[str, Any] = {}
        if current and not rebuild:
            try:
                manifest = self.layout.read_manifest(current)
            except (OSError, ValueError):
                manifest = {}
            if {k: manifest.get(k) for k in self._settings_key()} == self._settings_key():
                old_docs = manifest.get("documents", {})
        version = new_version()
        report = BuildReport(version=version)
        new_ids = {d.doc_id for d in documents}
        report.removed = sorted(set(old_docs) - new_ids)
        for doc in documents:
            previous = old_docs.get(doc.doc_id)
            if previous is None:
                report.added.append(doc.doc_id)
            elif previous["hash"] != doc.content_hash:
                report.updated.append(doc.doc_id)
            else:
                report.unchanged.append(doc.doc_id)
        if current and old_docs and not (report.added or report.updated or report.removed):
            report.version = current
            report.chunk_count = sum(len(e["chunk_ids"]) for e in old_docs.values())
            return report

        chunks_by_doc = {doc.doc_id: chunk_document(doc, self.max_tokens) for doc in documents}
        reused: dict[str, list[float]] = {}
        if current and report.unchanged:
            carried = [cid for d in report.unchanged for cid in old_docs[d]["chunk_ids"]]
            reused = self.store.vectors(current, carried)
        to_embed: list[Chunk] = [
            c for chunks in chunks_by_doc.values() for c in chunks if c.chunk_id not in reused
        ]
        vectors = dict(reused)
        bar = tqdm(total=len(to_embed), desc="embedding", unit="chunk", disable=not self.show_progress)
        for i in range(0, len(to_embed), self.embed_batch):
            batch = to_embed[i : i + self.embed_batch]
            for chunk, vector in zip(
                batch, self.store.embeddings.embed_documents([c.contextual_text for c in batch]), strict=True
            ):
                vectors[chunk.chunk_id] = vector
            bar.update(len(batch))
        bar.close()
        report.embedded_chunks = len(to_embed)

        all_chunks = [c for doc in documents for c in chunks_by_doc[doc.doc_id]]
        self.store.add(version, all_chunks, [vectors[c.chunk_id] for c in all_chunks])
        self._write_version(version, documents, chunks_by_doc)
        if self._before_publish:
            self._before_publish(version)
        self.layout.publish(version)
        report.published = True
        report.chunk_count = len(all_chunks)
        self._collect_garbage(keep={version, current} - {None})
        return report

    def _write_version(
        self, version: str, documents: Sequence[PolicyDocument], chunks_by_doc: dict[str, list[Chunk]]
    ) -> None:
        final = self.layout.version_dir(version)
        tmp = final.with_name(final.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as handle:
            for doc in documents:
                for chunk in chunks_by_doc[doc.doc_id]:
                    handle.write(json.dumps(chunk.metadata(), ensure_ascii=False) + "\n")
        manifest = {
            "version": version,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **self._settings_key(),
            "documents": {
                doc.doc_id: {
                    "hash": doc.content_hash,
                    "source": doc.source,
                    "chunk_ids": [c.chunk_id for c in chunks_by_doc[doc.doc_id]],
                    "summary": doc.summary(),
                    "metadata": doc.metadata,
                    "text": doc.text,
                }
                for doc in documents
            },
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        for name in ("chunks.jsonl", "manifest.json"):
            with (tmp / name).open("rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, final)

    def _collect_garbage(self, keep: set[str]) -> None:
        """Drop versions other than the serving one and its predecessor (still read by slower workers)."""
        for version in self.store.versions():
            if version not in keep:
                self.store.drop(version)
        versions_dir = self.layout.root / "versions"
        for path in versions_dir.iterdir() if versions_dir.exists() else ():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
