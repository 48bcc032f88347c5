"""Hybrid retrieval over the real corpus: passages, filters, acceptance queries, script variants,
the LangChain retriever, and BM25-only degraded mode when Chroma is unreachable."""

from __future__ import annotations

import opencc
import pytest
from langchain_core.documents import Document

from retrieval.library import PolicyLibrary
from retrieval.normalize import normalize_for_matching
from retrieval.retriever import DEGRADED_NOTICE, METHODS, HybridRetriever, PolicySearcher
from retrieval.store import ChromaLocation, ChromaStore
from tests.conftest import SHANDONG_OPINIONS, SHANDONG_PLAN, ZIBO, free_port

QUANTUM = "量子通信有什么安排"
ZIBO_PIONEER = "三、行动目标 › 打造山东新一代信息基础设施先行区"


def top(library: PolicyLibrary, query: str, **kwargs: object) -> tuple[str, str]:
    passage = library.search(query, **kwargs).passages[0]  # type: ignore[arg-type]
    return passage.chunk.doc_id, passage.chunk.section_path


@pytest.mark.parametrize("method", METHODS)
def test_search_returns_citable_passages(built_library: PolicyLibrary, method: str) -> None:
    result = built_library.search("数据中心建设", k=4, method=method)  # type: ignore[arg-type]
    assert not result.degraded and result.notices == []
    assert result.index_version == built_library.layout.current_version()
    assert 0 < len(result.passages) <= 4
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True)
    assert len({p.chunk.chunk_id for p in result.passages}) == len(result.passages)
    for passage in result.passages:
        data = passage.as_dict()
        assert {"doc_id", "title", "doc_number", "section_path", "text", "score"} <= set(data)
        assert data["doc_id"] in {ZIBO, SHANDONG_PLAN, SHANDONG_OPINIONS}
        assert data["title"] and data["section_path"] and data["text"]
        assert isinstance(data["score"], float)
        assert not passage.chunk.is_heading_only
        if data["doc_id"] == ZIBO:
            assert data["doc_number"] == "淄政办字〔2021〕78号"
        # the offsets cite the original document text
        document_text = built_library.live.current().document_text(data["doc_id"])
        assert document_text is not None
        assert document_text[data["start"] : data["end"]] == data["text"]
    if method != "bm25":
        assert all(p.dense_score is not None for p in result.passages if p.dense_rank is not None)


def test_filter_by_doc_id(built_library: PolicyLibrary) -> None:
    for method in METHODS:
        result = built_library.search("5G基站", k=10, method=method, filters={"doc_id": SHANDONG_PLAN})
        assert result.passages
        assert {p.chunk.doc_id for p in result.passages} == {SHANDONG_PLAN}
    both = built_library.search("5G基站", k=20, filters={"doc_id": [ZIBO, SHANDONG_OPINIONS]})
    assert {p.chunk.doc_id for p in both.passages} == {ZIBO, SHANDONG_OPINIONS}


def test_filter_by_issuer(built_library: PolicyLibrary) -> None:
    for method in METHODS:
        result = built_library.search(
            "5G网络", k=10, method=method, filters={"issuer": "淄博市人民政府办公室"}
        )
        assert result.passages
        assert {p.chunk.doc_id for p in result.passages} == {ZIBO}
    combined = built_library.search(
        "5G网络", k=10, filters={"issuer": "山东省人民政府", "doc_id": SHANDONG_OPINIONS}
    )
    assert combined.passages == []
    nobody = built_library.search("5G网络", k=10, filters={"issuer": "不存在的机关"})
    assert nobody.passages == []


def test_unknown_filter_or_method_is_rejected(built_library: PolicyLibrary) -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        built_library.search("5G", filters={"year": 2021})
    with pytest.raises(ValueError, match="unknown retrieval method"):
        built_library.search("5G", method="fuzzy")  # type: ignore[arg-type]


def test_acceptance_quantum_communication(built_library: PolicyLibrary) -> None:
    assert top(built_library, QUANTUM) == (ZIBO, ZIBO_PIONEER)
    passage = built_library.search(QUANTUM).passages[0]
    assert "量子通信" in passage.chunk.text
    assert passage.bm25_rank == 0


def test_acceptance_document_number_in_traditional_script(built_library: PolicyLibrary) -> None:
    result = built_library.search("山東省新基建行動方案的文號")
    assert result.passages[0].chunk.doc_id == SHANDONG_PLAN
    assert "魯政字〔2020〕228號" in result.passages[0].chunk.text


def to_full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@pytest.mark.parametrize(
    "query", [QUANTUM, "数据中心PUE要求", "山东省新基建行动方案的文号", "到2022年建设多少5G基站(全省)"]
)
def test_script_and_width_variants_meet_the_same_passage(built_library: PolicyLibrary, query: str) -> None:
    traditional = opencc.OpenCC("s2t").convert(query)
    assert traditional != query
    variants = [traditional, to_full_width(query), to_full_width(traditional), f"  {query}\u3000"]
    expected = built_library.search(query).passages
    for variant in variants:
        assert normalize_for_matching(variant) == normalize_for_matching(query)
        found = built_library.search(variant).passages
        assert found[0].chunk.chunk_id == expected[0].chunk.chunk_id, variant


def test_k_limits_the_passages(built_library: PolicyLibrary) -> None:
    assert len(built_library.search("基础设施", k=1).passages) == 1
    assert len(built_library.search("基础设施", k=50).passages) <= len(built_library.live.current().chunks)


def test_query_without_known_terms(built_library: PolicyLibrary) -> None:
    assert built_library.search("zzzz qqqq", method="bm25").passages == []
    # dense search always has neighbours
    assert built_library.search("zzzz qqqq", method="dense", k=3).passages


def test_langchain_retriever_returns_documents_with_metadata(built_library: PolicyLibrary) -> None:
    retriever = HybridRetriever(searcher=built_library.searcher, k=3)
    documents = retriever.invoke(QUANTUM)
    assert 0 < len(documents) <= 3
    assert all(isinstance(d, Document) for d in documents)
    first = documents[0]
    assert first.metadata["doc_id"] == ZIBO
    assert first.metadata["section_path"] == ZIBO_PIONEER
    assert first.metadata["doc_number"] == "淄政办字〔2021〕78号"
    assert first.metadata["title"] == "淄博市新型基础设施建设三年行动计划(2021-2023年)"
    assert first.metadata["degraded"] is False
    assert first.metadata["index_version"] == built_library.layout.current_version()
    assert first.metadata["score"] > 0
    assert "量子通信" in first.page_content
    assert first.id == first.metadata["chunk_id"]

    filtered = HybridRetriever(
        searcher=built_library.searcher, k=5, method="bm25", filters={"doc_id": SHANDONG_PLAN}
    )
    assert {d.metadata["doc_id"] for d in filtered.invoke("5G基站")} == {SHANDONG_PLAN}


def test_degraded_mode_when_chroma_is_unreachable(built_library: PolicyLibrary) -> None:
    """The index was built into embedded Chroma; the vector store then becomes an unreachable server."""
    unreachable = ChromaStore(ChromaLocation(host="127.0.0.1", port=free_port()), built_library.embeddings)
    assert not unreachable.heartbeat()
    searcher = PolicySearcher(built_library.live, unreachable)

    result = searcher.search(QUANTUM)
    assert result.degraded
    assert result.notices == [DEGRADED_NOTICE]
    assert result.passages, "BM25 still answers"
    assert (result.passages[0].chunk.doc_id, result.passages[0].chunk.section_path) == (ZIBO, ZIBO_PIONEER)
    assert all(p.dense_score is None and p.bm25_score > 0 for p in result.passages)
    bm25 = built_library.search(QUANTUM, method="bm25")
    assert [p.chunk.chunk_id for p in result.passages] == [p.chunk.chunk_id for p in bm25.passages]

    documents = HybridRetriever(searcher=searcher, k=2).invoke(QUANTUM)
    assert documents and all(d.metadata["degraded"] is True for d in documents)
    # dense-only search has nothing to fall back on: the failure surfaces
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises
        searcher.search(QUANTUM, method="dense")
    # bm25 never needs Chroma
    assert not searcher.search(QUANTUM, method="bm25").degraded


def test_swapping_the_library_store_to_an_unreachable_server(
    built_library: PolicyLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = built_library.store
    monkeypatch.setattr(store, "location", ChromaLocation(host="127.0.0.1", port=free_port()))
    monkeypatch.setattr(store, "_client", None)
    result = built_library.search(QUANTUM)
    assert result.degraded and DEGRADED_NOTICE in result.notices
    assert result.passages[0].chunk.section_path == ZIBO_PIONEER
    monkeypatch.undo()
    store.reset_client()
    # back on the embedded store: full hybrid search again
    assert not built_library.search(QUANTUM).degraded
