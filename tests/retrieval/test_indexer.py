"""The index builder: incremental (content hashes), atomic (CURRENT moves only when a version is complete)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.embeddings import E5Embeddings
from retrieval.index import IndexNotReady
from retrieval.indexer import IndexBuilder
from retrieval.library import PolicyLibrary

DOCS = {
    "alpha.md": """---
id: alpha
title: 甲市算力基础设施行动方案
issuer: 甲市人民政府
doc_number: 甲政字〔2021〕1号
---
一、建设目标
到2023年建成量子通信城域网。
二、保障措施
设立专项资金支持数据中心建设。
""",
    "beta.md": """---
id: beta
title: 乙市充电基础设施实施意见
issuer: 乙市人民政府
---
一、总体要求
新建公共充电桩500个。
""",
    "gamma.txt": "丙市工业互联网发展规划\n一、主要任务\n培育工业互联网平台10个。\n",
}


def make_library(root: Path, embeddings: E5Embeddings) -> PolicyLibrary:
    return PolicyLibrary(
        data_dir=root / "data",
        corpus_dirs=[root / "corpus"],
        uploads_dir=root / "data" / "uploads",
        embeddings=embeddings,
        embedding_model=E5Embeddings.model_name,
        max_tokens=120,
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def library(tmp_path: Path, corpus: Path, e5: E5Embeddings) -> PolicyLibrary:
    return make_library(tmp_path, e5)


def top_text(library: PolicyLibrary, query: str, method: str = "bm25", **kwargs: object) -> str:
    result = library.search(query, k=1, method=method, **kwargs)  # type: ignore[arg-type]
    return result.passages[0].chunk.text if result.passages else ""


def all_text(library: PolicyLibrary, query: str, method: str = "bm25", **kwargs: object) -> str:
    result = library.search(query, k=20, method=method, **kwargs)  # type: ignore[arg-type]
    return "\n".join(p.chunk.text for p in result.passages)


def chunk_count(library: PolicyLibrary, doc_id: str) -> int:
    return len(library.live.current().chunks_of(doc_id))


def test_first_build_indexes_everything(library: PolicyLibrary) -> None:
    with pytest.raises(IndexNotReady):
        library.search("量子通信")
    report = library.build()
    assert report.published
    assert sorted(report.added) == ["alpha", "beta", "gamma"]
    assert report.updated == report.removed == report.unchanged == []
    assert report.errors == []
    assert report.chunk_count == report.embedded_chunks > 0
    assert library.layout.current_version() == report.version
    snapshot = library.live.current()
    assert snapshot.version == report.version
    assert len(snapshot.chunks) == report.chunk_count
    assert set(snapshot.documents) == {"alpha", "beta", "gamma"}
    assert snapshot.documents["alpha"]["summary"]["doc_number"] == "甲政字〔2021〕1号"
    assert library.store.versions() == [report.version]
    assert "量子通信城域网" in top_text(library, "量子通信", method="hybrid")
    assert "充电桩" in top_text(library, "充电桩", method="dense")
    assert sorted(d["doc_id"] for d in library.documents()) == ["alpha", "beta", "gamma"]


def test_unchanged_corpus_publishes_nothing(library: PolicyLibrary) -> None:
    first = library.build()
    second = library.build()
    assert not second.published
    assert second.embedded_chunks == 0
    assert second.version == first.version
    assert sorted(second.unchanged) == ["alpha", "beta", "gamma"]
    assert second.added == second.updated == second.removed == []
    assert second.chunk_count == first.chunk_count
    assert library.layout.current_version() == first.version
    assert library.store.versions() == [first.version]


def test_changing_one_document_reembeds_only_its_chunks(library: PolicyLibrary, corpus: Path) -> None:
    first = library.build()
    alpha_chunks = chunk_count(library, "alpha")
    (corpus / "beta.md").write_text(
        DOCS["beta.md"].replace("新建公共充电桩500个。", "新建加氢站20座。\n二、保障措施\n落实用地保障。"),
        encoding="utf-8",
    )
    report = library.build()
    assert report.published and report.version != first.version
    assert report.updated == ["beta"]
    assert sorted(report.unchanged) == ["alpha", "gamma"]
    assert report.added == report.removed == []
    assert report.embedded_chunks == chunk_count(library, "beta") == 2
    assert chunk_count(library, "alpha") == alpha_chunks
    assert report.chunk_count == first.chunk_count + 1
    assert "加氢站" in top_text(library, "加氢站")
    assert "充电桩" not in all_text(library, "充电桩", filters={"doc_id": "beta"})
    # the unchanged documents were carried over with their vectors: dense search still finds them
    assert "量子通信城域网" in top_text(library, "量子通信城域网", method="dense")
    # the previous version is kept for slower readers, older ones are collected
    assert sorted(library.store.versions()) == sorted([first.version, report.version])


def test_metadata_change_counts_as_update(library: PolicyLibrary, corpus: Path) -> None:
    library.build()
    (corpus / "alpha.md").write_text(
        DOCS["alpha.md"].replace("甲政字〔2021〕1号", "甲政字〔2021〕2号"), encoding="utf-8"
    )
    report = library.build()
    assert report.updated == ["alpha"]
    assert report.embedded_chunks == chunk_count(library, "alpha")
    assert {c.doc_number for c in library.live.current().chunks_of("alpha")} == {"甲政字〔2021〕2号"}


def test_deleting_a_file_removes_its_chunks(library: PolicyLibrary, corpus: Path) -> None:
    library.build()
    (corpus / "gamma.txt").unlink()
    report = library.build()
    assert report.published
    assert report.removed == ["gamma"]
    assert report.embedded_chunks == 0
    snapshot = library.live.current()
    assert snapshot.chunks_of("gamma") == []
    assert "gamma" not in snapshot.documents
    for method in ("bm25", "dense", "hybrid"):
        hits = library.search("工业互联网平台", k=10, method=method).passages  # type: ignore[arg-type]
        assert all(p.chunk.doc_id != "gamma" for p in hits)


def test_rebuild_reembeds_everything(library: PolicyLibrary) -> None:
    first = library.build()
    report = library.build(rebuild=True)
    assert report.published and report.version != first.version
    assert report.embedded_chunks == report.chunk_count == first.chunk_count
    assert sorted(report.added) == ["alpha", "beta", "gamma"]


def test_a_build_that_dies_before_publishing_changes_nothing(library: PolicyLibrary, corpus: Path) -> None:
    first = library.build()
    (corpus / "alpha.md").write_text(
        DOCS["alpha.md"].replace("量子通信城域网", "区块链公共服务平台"), encoding="utf-8"
    )

    def crash(version: str) -> None:
        raise RuntimeError(f"simulated crash before publishing {version}")

    builder = IndexBuilder(
        library.layout,
        library.store,
        max_tokens=library.max_tokens,
        embedding_model=library.embedding_model,
        before_publish=crash,
    )
    with pytest.raises(RuntimeError, match="simulated crash"):
        builder.build(*library.load_documents())

    # readers still see the previous version, old content included, in every retrieval mode
    assert library.layout.current_version() == first.version
    assert library.live.current().version == first.version
    assert "量子通信城域网" in top_text(library, "量子通信")
    assert "量子通信城域网" in top_text(library, "量子通信", method="hybrid")
    for method in ("bm25", "hybrid"):
        assert "区块链" not in all_text(library, "区块链公共服务平台", method=method)

    # the next build completes, and clears the abandoned version away
    report = library.build()
    assert report.published and report.updated == ["alpha"]
    assert report.embedded_chunks == chunk_count(library, "alpha")
    assert library.layout.current_version() == report.version
    assert "区块链公共服务平台" in top_text(library, "区块链公共服务平台", method="hybrid")
    assert sorted(library.store.versions()) == sorted([first.version, report.version])
    versions_dir = library.layout.root / "versions"
    assert sorted(p.name for p in versions_dir.iterdir()) == sorted([first.version, report.version])


def test_a_bad_file_is_reported_and_the_rest_indexed(library: PolicyLibrary, corpus: Path) -> None:
    (corpus / "scan.pdf").write_bytes(b"\x89PNG this is an image renamed to .pdf")
    report = library.build()
    assert report.published
    assert sorted(report.added) == ["alpha", "beta", "gamma"]
    assert len(report.errors) == 1
    assert "scan.pdf" in str(report.errors[0])
    assert report.as_dict()["errors"][0]["path"].endswith("scan.pdf")
    assert "量子通信城域网" in top_text(library, "量子通信")


def test_settings_change_reembeds(tmp_path: Path, corpus: Path, e5: E5Embeddings) -> None:
    library = make_library(tmp_path, e5)
    library.build()
    smaller = make_library(tmp_path, e5)
    smaller.max_tokens = 40
    report = smaller.build()
    assert report.published
    assert report.embedded_chunks == report.chunk_count
    assert all(c.token_count <= 40 for c in smaller.live.current().chunks)
