"""The document library: the source folders, the index built from them, and the searcher over it.

The one place that composes documents → chunks → index → search. Uploads are saved into the uploads
folder first and indexed from there, so a restart rebuilds exactly what was acknowledged."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from retrieval.documents import DocumentError, LoadError, PolicyDocument, load_corpus, parse_document
from retrieval.index import IndexLayout, LiveIndex
from retrieval.indexer import EMBED_BATCH, BuildReport, IndexBuilder, build_lock
from retrieval.retriever import Method, PolicySearcher, SearchResult
from retrieval.store import ChromaLocation, ChromaStore


class DocumentNotFound(KeyError):
    pass


class PolicyLibrary:
    def __init__(
        self,
        *,
        data_dir: Path,
        corpus_dirs: Sequence[Path],
        uploads_dir: Path,
        embeddings: Embeddings,
        embedding_model: str,
        chroma: ChromaLocation | None = None,
        max_tokens: int = 480,
        embed_batch: int = EMBED_BATCH,
        dense_weight: float = 1.0,
        bm25_weight: float = 2.0,
    ) -> None:
        self.layout = IndexLayout(data_dir)
        self.corpus_dirs = list(corpus_dirs)
        self.uploads_dir = uploads_dir
        self.embeddings = embeddings
        self.embedding_model = embedding_model
        self.max_tokens = max_tokens
        self.embed_batch = embed_batch
        self.store = ChromaStore(chroma or ChromaLocation(path=self.layout.chroma_dir), embeddings)
        self.live = LiveIndex(self.layout)
        self.searcher = PolicySearcher(
            self.live, self.store, dense_weight=dense_weight, bm25_weight=bm25_weight
        )

    # -- documents ---------------------------------------------------------------------------------
    def load_documents(self) -> tuple[list[PolicyDocument], list[LoadError]]:
        documents: list[PolicyDocument] = []
        errors: list[LoadError] = []
        seen: set[str] = set()
        for folder in [*self.corpus_dirs, self.uploads_dir]:
            if not folder.is_dir():
                continue
            docs, errs = load_corpus(folder)
            errors.extend(errs)
            for doc in docs:
                if doc.doc_id in seen:
                    errors.append(LoadError(doc.source, f"duplicate document id {doc.doc_id!r}; skipped"))
                    continue
                seen.add(doc.doc_id)
                documents.append(doc)
        return documents, errors

    def builder(self, show_progress: bool = False) -> IndexBuilder:
        return IndexBuilder(
            self.layout,
            self.store,
            max_tokens=self.max_tokens,
            embedding_model=self.embedding_model,
            show_progress=show_progress,
            embed_batch=self.embed_batch,
        )

    def build(self, rebuild: bool = False, show_progress: bool = False) -> BuildReport:
        documents, errors = self.load_documents()
        return self.builder(show_progress).build(documents, errors, rebuild=rebuild)

    def ensure_built(self, show_progress: bool = False) -> BuildReport | None:
        """Build when no index exists yet (first start) or the serving one was built by another version of the
        reader, chunker or embedding model (an upgrade); otherwise leave the serving index alone."""
        current = self.layout.current_version()
        if current is not None and self.builder().built_alike(current):
            return None
        return self.build(show_progress=show_progress)

    def validate_upload(self, raw: bytes, filename: str) -> tuple[PolicyDocument, str]:
        """The parsed document and the name it is stored under (`<doc_id><suffix>`); DocumentError when the
        file cannot be read or would replace a shipped document."""
        name = Path(filename).name
        if not name or "/" in filename or "\\" in filename or name.startswith(".") or "\x00" in filename:
            raise DocumentError(f"{filename!r}: invalid file name (no paths or hidden files)")
        document = parse_document(raw, name)
        existing = {d.doc_id: d for d in self.load_documents()[0]}
        if document.doc_id in existing and not self._is_upload(existing[document.doc_id]):
            raise DocumentError(f"{name}: document id {document.doc_id!r} belongs to the shipped corpus")
        return document, f"{document.doc_id}{Path(name).suffix.lower()}"

    def check_deletable(self, doc_id: str) -> None:
        """DocumentNotFound, or DocumentError for a shipped document (removed from its folder, not the API)."""
        document = {d.doc_id: d for d in self.load_documents()[0]}.get(doc_id)
        if document is None:
            raise DocumentNotFound(doc_id)
        if not self._is_upload(document):
            raise DocumentError(
                f"{doc_id}: shipped corpus documents are removed from the corpus folder, not the API"
            )

    def add_document(self, raw: bytes, filename: str) -> tuple[PolicyDocument, BuildReport]:
        """Validate, store and index one uploaded file; a rejected upload changes nothing."""
        document, stored_name = self.validate_upload(raw, filename)
        self.write_upload(document.doc_id, stored_name, raw)
        return document, self.build()

    def delete_document(self, doc_id: str) -> BuildReport:
        self.check_deletable(doc_id)
        self.remove_upload(doc_id)
        return self.build()

    def write_upload(self, doc_id: str, stored_name: str, raw: bytes) -> None:
        """Save an upload durably (fsync, one rename) in place of any earlier file of the same document."""
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        with build_lock(self.layout):
            target = self.uploads_dir / stored_name
            for old in self.uploads_dir.glob(f"{doc_id}.*"):
                if old != target:
                    old.unlink()
            with tempfile.NamedTemporaryFile(dir=self.uploads_dir, delete=False, suffix=".part") as tmp:
                tmp.write(raw)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp.name, target)

    def remove_upload(self, doc_id: str) -> None:
        with build_lock(self.layout):
            for path in self.uploads_dir.glob(f"{doc_id}.*"):
                path.unlink()

    def upload_files(self) -> dict[str, Path]:
        """The files in the uploads folder by document id (the name before the suffix)."""
        if not self.uploads_dir.is_dir():
            return {}
        return {
            p.stem: p
            for p in sorted(self.uploads_dir.iterdir())
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".part")
        }

    def _is_upload(self, document: PolicyDocument) -> bool:
        return any(p.name == document.source for p in self.uploads_dir.glob(f"{document.doc_id}.*"))

    # -- queries -----------------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 5, method: Method = "hybrid", filters: dict[str, Any] | None = None
    ) -> SearchResult:
        return self.searcher.search(query, k=k, method=method, filters=filters)

    def documents(self) -> list[dict[str, Any]]:
        snapshot = self.live.current()
        return [
            {**entry["summary"], "chunk_count": len(entry["chunk_ids"]), "source": entry["source"]}
            for entry in snapshot.documents.values()
        ]

    def warm_up(self) -> None:
        from retrieval import lexical

        lexical.warm_up()
        warm = getattr(self.embeddings, "warm_up", None)
        if callable(warm):
            warm()
        if self.live.is_ready():
            self.live.current()
