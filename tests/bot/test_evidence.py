"""Sentence vectors are embedded once per index version and reused across restarts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from bot.evidence import SENTENCE_VECTORS_FILE, UnitVectors
from retrieval.library import PolicyLibrary


class CountingEmbeddings:
    """A deterministic stand-in for the embedding model that counts the texts it is asked to embed."""

    model_name = "counting-test-model"

    def __init__(self) -> None:
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    @staticmethod
    def _vector(text: str) -> list[float]:
        digest = hashlib.sha256(text.encode()).digest()
        vector = np.frombuffer(digest, dtype=np.uint8).astype(np.float32)[:8]
        return (vector / np.linalg.norm(vector)).tolist()


def test_sentence_vectors_are_saved_and_reused(built_library: PolicyLibrary, tmp_path: Path) -> None:
    snapshot = built_library.live.current()
    first = CountingEmbeddings()
    UnitVectors(first).warm_up(snapshot, cache_dir=tmp_path)
    assert first.embedded > 50 and (tmp_path / SENTENCE_VECTORS_FILE).exists()

    restarted = CountingEmbeddings()
    vectors = UnitVectors(restarted)
    vectors.warm_up(snapshot, cache_dir=tmp_path)
    assert restarted.embedded == 0  # every sentence came from the file
    text = next(iter(vectors._vectors))
    assert np.allclose(vectors.vectors([text])[0], CountingEmbeddings._vector(text), atol=1e-6)


def test_vectors_of_another_model_are_not_reused(built_library: PolicyLibrary, tmp_path: Path) -> None:
    snapshot = built_library.live.current()
    UnitVectors(CountingEmbeddings()).warm_up(snapshot, cache_dir=tmp_path)
    other = CountingEmbeddings()
    UnitVectors(other, model_id="another-model").warm_up(snapshot, cache_dir=tmp_path)
    assert other.embedded > 50


def test_unreadable_file_is_rebuilt(built_library: PolicyLibrary, tmp_path: Path) -> None:
    (tmp_path / SENTENCE_VECTORS_FILE).write_bytes(b"not an npz file")
    embeddings = CountingEmbeddings()
    UnitVectors(embeddings).warm_up(built_library.live.current(), cache_dir=tmp_path)
    assert embeddings.embedded > 50
    assert np.load(tmp_path / SENTENCE_VECTORS_FILE)["vectors"].shape[0] == embeddings.embedded
