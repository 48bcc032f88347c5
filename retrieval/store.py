"""Chroma as the vector store: embedded on disk by default, a real `chroma run` server when a host is set.

Every index version lives in its own collection (`policy_<version>`), so a build that dies half-way never
touches the collection that is serving."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import Embeddings

from retrieval.chunking import Chunk
from retrieval.embeddings import PolicyEmbeddingFunction, stable_similarity

COLLECTION_PREFIX = "policy_"


@dataclass(frozen=True)
class ChromaLocation:
    """Where Chroma lives: a directory (embedded) or host/port (server)."""

    path: Path | None = None
    host: str | None = None
    port: int = 8000

    @property
    def is_server(self) -> bool:
        return bool(self.host)

    def describe(self) -> str:
        return (
            f"chroma server {self.host}:{self.port}" if self.is_server else f"embedded chroma at {self.path}"
        )


def open_client(location: ChromaLocation) -> Any:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if location.is_server:
        return chromadb.HttpClient(host=location.host or "127.0.0.1", port=location.port, settings=settings)
    assert location.path is not None
    location.path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(location.path), settings=settings)


def collection_name(version: str) -> str:
    return f"{COLLECTION_PREFIX}{version}"


class ChromaStore:
    """Thin wrapper over one Chroma client: per-version collections holding chunk vectors."""

    def __init__(self, location: ChromaLocation, embeddings: Embeddings) -> None:
        self.location = location
        self.embeddings = embeddings
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._function = PolicyEmbeddingFunction(embeddings)

    @property
    def client(self) -> Any:
        client = self._client
        if client is None:
            # one client per store: Chroma's shared system for a path is not safe to create from two
            # threads at once (seen under concurrent uploads and questions)
            with self._client_lock:
                if self._client is None:
                    self._client = open_client(self.location)
                client = self._client
        return client

    def reset_client(self) -> None:
        """Forget the connection (used after a server outage so the next call reconnects)."""
        self._client = None

    def _collection(self, version: str, create: bool = False) -> Any:
        name = collection_name(version)
        if create:
            return self.client.get_or_create_collection(
                name=name,
                embedding_function=self._function,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"version": version},
            )
        return self.client.get_collection(name=name, embedding_function=self._function)

    def add(self, version: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        if not chunks:
            self._collection(version, create=True)
            return
        collection = self._collection(version, create=True)
        collection.upsert(
            ids=[c.chunk_id for c in chunks],
            embeddings=[list(v) for v in vectors],
            documents=[c.contextual_text for c in chunks],
            metadatas=[{"doc_id": c.doc_id, "issuer": c.issuer, "ordinal": c.ordinal} for c in chunks],
        )

    def vectors(self, version: str, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors of the given chunks (to carry unchanged documents into a new version)."""
        if not chunk_ids:
            return {}
        found = self._collection(version).get(ids=list(chunk_ids), include=["embeddings"])
        return {
            cid: list(map(float, vec)) for cid, vec in zip(found["ids"], found["embeddings"], strict=True)
        }

    def query(
        self, version: str, vector: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity at the CPU-independent precision), best first."""
        collection = self._collection(version)
        count = collection.count()
        if count == 0:
            return []
        result = collection.query(
            query_embeddings=[list(vector)],
            n_results=min(k, count),
            where=where or None,
            include=["distances"],
        )
        return [
            (cid, stable_similarity(1.0 - float(d)))
            for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def versions(self) -> list[str]:
        names = [getattr(c, "name", c) for c in self.client.list_collections()]
        return [n[len(COLLECTION_PREFIX) :] for n in names if str(n).startswith(COLLECTION_PREFIX)]

    def drop(self, version: str) -> None:
        try:
            self.client.delete_collection(collection_name(version))
        except Exception:  # already gone: dropping is best-effort clean-up
            return

    def heartbeat(self) -> bool:
        try:
            self.client.heartbeat()
            return True
        except Exception:
            self.reset_client()
            return False
