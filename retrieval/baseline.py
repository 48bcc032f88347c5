"""The LangChain-tutorial baseline we measure ourselves against: RecursiveCharacterTextSplitter(500/50)
chunks, dense-only search in a Chroma vector store, no structure, no BM25, no normalisation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from retrieval.documents import PolicyDocument
from retrieval.embeddings import stable_similarity


@dataclass(frozen=True)
class BaselineHit:
    doc_id: str
    start: int
    end: int
    text: str
    score: float


class _RawEmbeddings(Embeddings):
    """The tutorial passes text straight to the model: no normalisation, which e5 sees as-is."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class TutorialBaseline:
    def __init__(self, documents: Sequence[PolicyDocument], embeddings: Embeddings) -> None:
        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50, add_start_index=True)
        pieces = splitter.split_documents(
            [Document(page_content=d.text, metadata={"doc_id": d.doc_id}) for d in documents]
        )
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma(
            collection_name=f"baseline-{uuid.uuid4().hex[:12]}",
            embedding_function=_RawEmbeddings(embeddings),
            client=client,
            collection_metadata={"hnsw:space": "cosine"},
        )
        self.store.add_documents(pieces)
        self.chunk_count = len(pieces)

    def search(self, query: str, k: int = 5) -> list[BaselineHit]:
        hits = []
        # a few extra candidates, so that a near-tie at the k-th place is decided by the stable order below
        for document, distance in self.store.similarity_search_with_score(query, k=k + 5):
            start = int(document.metadata.get("start_index", 0))
            hits.append(
                BaselineHit(
                    doc_id=document.metadata["doc_id"],
                    start=start,
                    end=start + len(document.page_content),
                    text=document.page_content,
                    score=stable_similarity(1.0 - float(distance)),
                )
            )
        hits.sort(key=lambda hit: (-hit.score, hit.doc_id, hit.start))
        return hits[:k]
