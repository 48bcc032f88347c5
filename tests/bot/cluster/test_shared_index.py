"""The document flow: two replicas with their own data dirs share one PostgreSQL registry (and one Chroma);
an upload on one is indexed once and loaded by the other; a delete anywhere reaches everyone. On the embedded
default (SQLite) an upload is recorded in the registry, and files uploaded before the registry are kept."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.cluster.locks import publish_lock
from bot.cluster.shared_index import SharedIndex
from bot.evidence import save_sentence_vectors
from bot.storage.database import Database
from bot.storage.registry import DocumentRegistry
from retrieval.embeddings import E5Embeddings
from retrieval.library import DocumentNotFound, PolicyLibrary
from retrieval.store import ChromaLocation
from tests.conftest import fresh_postgres_database

SHIPPED = """---
id: shipped-plan
title: 示例市数据中心建设方案
issuer: 示例市人民政府
---
一、总体要求

到2027年，建成数据中心机架1000个。
"""
UPLOAD = """---
id: uploaded-opinions
title: 示例市算力设施指导意见
issuer: 示例市人民政府
---
一、主要目标

到2028年，算力规模达到每秒5000亿亿次。
"""


def _library(root: Path, corpus: Path, chroma: Path, e5: E5Embeddings) -> PolicyLibrary:
    return PolicyLibrary(
        data_dir=root,
        corpus_dirs=[corpus],
        uploads_dir=root / "uploads",
        embeddings=e5,
        embedding_model=E5Embeddings.model_name,
        chroma=ChromaLocation(path=chroma),
    )


def _replica(root: Path, corpus: Path, chroma: Path, e5: E5Embeddings, url: str) -> SharedIndex:
    database = Database(url)
    library = _library(root, corpus, chroma, e5)
    return SharedIndex(
        library,
        DocumentRegistry(database),
        lock=publish_lock(database, root / "PUBLISH.lock"),
        shared=database.is_shared,
        after_build=save_sentence_vectors,
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "shipped-plan.md").write_text(SHIPPED, encoding="utf-8")
    return folder


def _doc_ids(index: SharedIndex) -> list[str]:
    return sorted(d["doc_id"] for d in index.library.documents())


def test_an_upload_on_one_replica_is_loaded_by_the_other(
    tmp_path: Path, corpus: Path, e5: E5Embeddings, postgres_server: object
) -> None:
    url = fresh_postgres_database(postgres_server)  # type: ignore[arg-type]
    chroma = tmp_path / "chroma"
    a = _replica(tmp_path / "a", corpus, chroma, e5, url)
    b = _replica(tmp_path / "b", corpus, chroma, e5, url)
    built = a.ensure_built()
    assert built is not None and built.published
    assert b.ensure_built() is None  # the second replica loads what the first published
    assert b.library.layout.current_version() == built.version
    assert (b.library.layout.version_dir(built.version) / "sentence_vectors.npz").exists()

    document, report = a.add_document(UPLOAD.encode(), "opinions.md")
    assert document.doc_id == "uploaded-opinions" and report.published
    assert b.pull() == report.version and b.pull() is None
    assert _doc_ids(b) == ["shipped-plan", "uploaded-opinions"]
    found = b.library.search("算力规模达到多少", k=1).passages
    assert found and found[0].chunk.doc_id == "uploaded-opinions"  # B's vectors query finds A's upload

    removed = b.delete_document("uploaded-opinions")  # B has no copy of the file: the registry has it
    assert removed.removed == ["uploaded-opinions"]
    assert a.pull() == removed.version and _doc_ids(a) == ["shipped-plan"]
    with pytest.raises(DocumentNotFound):
        a.delete_document("uploaded-opinions")
    a.sync_uploads()
    assert not any((tmp_path / "a" / "uploads").glob("uploaded-opinions.*"))


def test_embedded_default_records_uploads_and_keeps_older_files(
    tmp_path: Path, corpus: Path, e5: E5Embeddings
) -> None:
    root = tmp_path / "data"
    (root / "uploads").mkdir(parents=True)
    (root / "uploads" / "uploaded-opinions.md").write_text(UPLOAD, encoding="utf-8")  # before the registry
    index = _replica(root, corpus, tmp_path / "chroma", e5, f"sqlite:///{root / 'registry.sqlite3'}")
    assert not index.shared
    index.ensure_built()
    assert _doc_ids(index) == ["shipped-plan", "uploaded-opinions"]
    assert [u.doc_id for u in index.registry.uploads()] == ["uploaded-opinions"]
    index.delete_document("uploaded-opinions")
    assert _doc_ids(index) == ["shipped-plan"]
    assert index.registry.uploads() == [] and index.library.upload_files() == {}


def test_uploads_on_two_replicas_at_once_are_both_kept(
    tmp_path: Path, corpus: Path, e5: E5Embeddings, postgres_server: object
) -> None:
    url = fresh_postgres_database(postgres_server)  # type: ignore[arg-type]
    chroma = tmp_path / "chroma"
    replicas = [_replica(tmp_path / name, corpus, chroma, e5, url) for name in ("a", "b")]
    replicas[0].ensure_built()
    second = UPLOAD.replace("uploaded-opinions", "second-upload").replace("5000", "6000")
    errors: list[BaseException] = []

    def upload(index: SharedIndex, text: str, name: str) -> None:
        try:
            index.add_document(text.encode(), name)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=upload, args=(replicas[0], UPLOAD, "one.md")),
        threading.Thread(target=upload, args=(replicas[1], second, "two.md")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for index in replicas:
        index.pull()
        assert _doc_ids(index) == ["second-upload", "shipped-plan", "uploaded-opinions"]
