"""The on-disk index layout and the loaded, read-only snapshot that queries run against.

    <data_dir>/index/CURRENT                 name of the serving version (replaced atomically)
    <data_dir>/index/versions/<v>/chunks.jsonl, manifest.json
    <data_dir>/chroma/                       embedded Chroma (collections policy_<v>)

Readers check CURRENT on every query, so every worker process switches to a new version as soon as a build
(or an upload through any worker) publishes it."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.chunking import Chunk

if TYPE_CHECKING:  # the BM25 stack loads with the first snapshot, not with the layout
    from retrieval.lexical import BM25Index


@dataclass(frozen=True)
class IndexLayout:
    data_dir: Path

    @property
    def root(self) -> Path:
        return self.data_dir / "index"

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    @property
    def lock_file(self) -> Path:
        return self.root / "LOCK"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    def version_dir(self, version: str) -> Path:
        return self.root / "versions" / version

    def current_version(self) -> str | None:
        try:
            version = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return version or None

    def publish(self, version: str) -> None:
        """Switch readers to `version` in one atomic rename."""
        tmp = self.root / f".CURRENT.{os.getpid()}.tmp"
        tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(tmp, self.current_file)

    def read_manifest(self, version: str) -> dict[str, Any]:
        return json.loads((self.version_dir(version) / "manifest.json").read_text(encoding="utf-8"))

    def read_chunks(self, version: str) -> list[Chunk]:
        path = self.version_dir(version) / "chunks.jsonl"
        with path.open(encoding="utf-8") as handle:
            return [Chunk.from_metadata(json.loads(line)) for line in handle if line.strip()]


@dataclass
class IndexSnapshot:
    """One published index version, loaded: chunks, document summaries and the BM25 index."""

    version: str
    chunks: list[Chunk]
    manifest: dict[str, Any]
    bm25: BM25Index
    chunk_index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, layout: IndexLayout, version: str) -> IndexSnapshot:
        from retrieval.lexical import BM25Index

        chunks = layout.read_chunks(version)
        return cls(
            version=version,
            chunks=chunks,
            manifest=layout.read_manifest(version),
            bm25=BM25Index([c.contextual_text for c in chunks]),
            chunk_index={c.chunk_id: i for i, c in enumerate(chunks)},
        )

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        return self.manifest.get("documents", {})

    def document_text(self, doc_id: str) -> str | None:
        entry = self.documents.get(doc_id)
        return None if entry is None else entry.get("text")

    def chunk(self, chunk_id: str) -> Chunk | None:
        index = self.chunk_index.get(chunk_id)
        return None if index is None else self.chunks[index]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [c for c in self.chunks if c.doc_id == doc_id]


class IndexNotReady(RuntimeError):
    """No index has been built in this data directory yet."""


class LiveIndex:
    """The serving snapshot, reloaded whenever another process publishes a new version."""

    def __init__(self, layout: IndexLayout) -> None:
        self.layout = layout
        self._snapshot: IndexSnapshot | None = None
        self._lock = threading.Lock()

    def current(self) -> IndexSnapshot:
        version = self.layout.current_version()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == version:
            return snapshot
        with self._lock:
            if self._snapshot is not None and self._snapshot.version == version:
                return self._snapshot
            if version is None:
                raise IndexNotReady(f"no index in {self.layout.root}; run `policybot index` first")
            self._snapshot = IndexSnapshot.load(self.layout, version)
            return self._snapshot

    def is_ready(self) -> bool:
        try:
            self.current()
        except (IndexNotReady, OSError, ValueError):
            return False
        return True
