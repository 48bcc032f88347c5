"""A library written by a test: plain-text files in a temporary directory, indexed with the packaged e5 model,
and an answering service over it (for rules that must hold on documents other than the shipped corpus)."""

from __future__ import annotations

from pathlib import Path

from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from retrieval.embeddings import E5Embeddings
from retrieval.library import PolicyLibrary
from retrieval.store import ChromaLocation


def service_over(root: Path, files: dict[str, str], e5: E5Embeddings) -> AssistantService:
    """Write `files` (name → text) under root/corpus, index them into root/data, and serve them."""
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    data = root / "data"
    library = PolicyLibrary(
        data_dir=data,
        corpus_dirs=[corpus],
        uploads_dir=data / "uploads",
        embeddings=e5,
        embedding_model=E5Embeddings.model_name,
        chroma=ChromaLocation(path=data / "chroma"),
    )
    assert library.build().published
    return AssistantService(library, SqlSessionStore(root / "sessions.sqlite3"))
