"""Builds the retrieval library from settings (the only place settings meet the retrieval package)."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from bot.config import Settings
from retrieval.embeddings import E5Embeddings, openai_embeddings
from retrieval.indexer import EMBED_BATCH
from retrieval.library import PolicyLibrary
from retrieval.store import ChromaLocation


def make_embeddings(settings: Settings) -> tuple[Embeddings, str]:
    if settings.embedding_backend == "openai":
        model = openai_embeddings(
            settings.embedding_base_url,
            settings.embedding_model,
            settings.embedding_api_key.get_secret_value(),
            settings.llm_timeout,
            batch_size=settings.embedding_batch_size,
            max_retries=settings.embedding_max_retries,
            query_prefix=settings.embedding_query_prefix,
            passage_prefix=settings.embedding_passage_prefix,
        )
        return model, f"openai:{settings.embedding_model}"
    return E5Embeddings(threads=settings.embedding_threads), E5Embeddings.model_name


def make_library(settings: Settings) -> PolicyLibrary:
    embeddings, model_name = make_embeddings(settings)
    data_dir = settings.resolved(settings.data_dir)
    chroma = (
        ChromaLocation(host=settings.chroma_host, port=settings.chroma_port)
        if settings.chroma_host
        else ChromaLocation(path=data_dir / "chroma")
    )
    return PolicyLibrary(
        data_dir=data_dir,
        corpus_dirs=[settings.resolved(settings.corpus_dir)],
        uploads_dir=settings.resolved(settings.uploads_dir),
        embeddings=embeddings,
        embedding_model=model_name,
        chroma=chroma,
        max_tokens=settings.chunk_max_tokens,
        embed_batch=settings.embedding_batch_size if settings.embedding_backend == "openai" else EMBED_BATCH,
        dense_weight=settings.dense_weight,
        bm25_weight=settings.bm25_weight,
    )
