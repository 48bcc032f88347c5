"""POLICYBOT_EMBEDDING_BACKEND=openai against a real OpenAI-compatible server (`policybot embed-server`, the
packaged e5 model): the same vectors as the embedded model, batched requests, failed requests retried, and a
library indexed and searched through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.library_factory import make_embeddings, make_library
from evals.cluster.services import EmbeddingServer
from retrieval.embeddings import E5Embeddings
from tests.conftest import CORPUS_DIR
from tests.support.flaky_proxy import FlakyProxy

TEXTS = [
    "到2023年，建成5G基站1万个。",
    "發揮創新基礎設施的共性支撐作用",
    "数据中心",
    "算力",
    "工业互联网平台",
]


@pytest.fixture(scope="module")
def embed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddingServer]:
    server = EmbeddingServer(tmp_path_factory.mktemp("embed"), threads=1)
    try:
        yield server.start()
    finally:
        server.stop()


def _settings(base_url: str, data_dir: Path, **extra: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        corpus_dir=CORPUS_DIR,
        embedding_backend="openai",
        embedding_base_url=base_url,
        embedding_model="multilingual-e5-small",
        embedding_query_prefix="query: ",
        embedding_passage_prefix="passage: ",
        **extra,
    )


def test_same_vectors_as_the_embedded_model(
    embed_server: EmbeddingServer, e5: E5Embeddings, tmp_path: Path
) -> None:
    remote, name = make_embeddings(_settings(embed_server.url, tmp_path))
    assert name == "openai:multilingual-e5-small"
    np.testing.assert_allclose(remote.embed_documents(TEXTS), e5.embed_documents(TEXTS), atol=1e-5)
    np.testing.assert_allclose(remote.embed_query("5G基站建多少"), e5.embed_query("5G基站建多少"), atol=1e-5)


def test_batches_and_retries(embed_server: EmbeddingServer, e5: E5Embeddings, tmp_path: Path) -> None:
    with FlakyProxy(embed_server.url.removesuffix("/v1"), fail_every=3) as proxy:
        remote, _ = make_embeddings(_settings(proxy.url + "/v1", tmp_path, embedding_batch_size=2))
        vectors = remote.embed_documents(TEXTS * 2)
    assert proxy.batch_sizes and max(proxy.batch_sizes) == 2 and sum(proxy.batch_sizes) == 10
    assert proxy.failed >= 1  # every third request failed with 503 and was retried
    np.testing.assert_allclose(vectors, e5.embed_documents(TEXTS * 2), atol=1e-5)


def test_a_library_indexed_through_the_service(embed_server: EmbeddingServer, tmp_path: Path) -> None:
    library = make_library(_settings(embed_server.url, tmp_path / "data", embedding_batch_size=32))
    report = library.build()
    assert report.published and report.embedded_chunks > 0 and library.embed_batch == 32
    top = library.search("计划要发挥哪类基础设施的共性支撑作用", k=3).passages
    assert top and top[0].chunk.doc_id == "zibo-new-infra-2021"
