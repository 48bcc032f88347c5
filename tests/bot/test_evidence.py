"""Evidence units and matching: sentence vectors saved per index version, cloze matching, synonym-aware terms."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from bot.evidence import (
    SENTENCE_VECTORS_FILE,
    TermWeights,
    UnitVectors,
    cloze_match,
    salient_terms,
    term_weights,
    units_of,
)
from retrieval.chunking import Chunk
from retrieval.lexical import MIN_RARITY
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


def _unit_containing(library: PolicyLibrary, words: str):
    snapshot = library.live.current()
    return next(u for c in snapshot.chunks for u in units_of(c) if words in u.text)


def test_cloze_match_counts_the_question_words_repeated_around_the_answer(
    built_library: PolicyLibrary,
) -> None:
    unit = _unit_containing(built_library, "打造中国产业算力中心")
    assert cloze_match(("淄博计划提出要打造", "算力中心"), unit) == len("打造") + len("算力中心")
    # the words after the question word must come after the words before it
    assert cloze_match(("算力中心", "要打造"), unit) == len("算力中心")
    assert cloze_match(("淄博计划提出要", "的"), unit) == 0  # one shared character either side says nothing
    assert cloze_match(None, unit) == 0


def test_a_question_word_the_documents_know_by_a_synonym_keeps_its_weight(
    built_library: PolicyLibrary,
) -> None:
    snapshot = built_library.live.current()
    weights = term_weights(snapshot)
    terms = salient_terms("老基建怎么处理", weights, snapshot.bm25.vocabulary, split_compounds=True)
    assert terms["老基建"] == weights.weight("传统基础设施")


def test_the_form_of_a_question_is_not_its_content(built_library: PolicyLibrary) -> None:
    """Counts with their measure words, words built on a question word and "each/respectively" words say how a
    question asks, not what about: when the library never writes them they are no content term (they weighed
    most of all, as unknown words, and made a clear question look uncovered)."""
    snapshot = built_library.live.current()
    weights, vocabulary = term_weights(snapshot), snapshot.bm25.vocabulary
    for question, form, content in [
        ("库里这四份文件分别是哪个机关发布的？", {"库里", "四份", "分别"}, {"机关", "发布"}),
        ("这两份文件各是哪个机关发布的", {"两份", "各是"}, {"机关", "发布"}),
        ("这几份通知分别由哪个机关发布？", {"几份", "分别"}, {"机关", "发布"}),
        ("新型基础设施分成了哪几大类，各有哪些设施？", {"分成", "几大类", "各有"}, set()),
    ]:
        terms = salient_terms(question, weights, vocabulary)
        assert not form & set(terms), (question, terms)
        assert content <= set(terms), (question, terms)
    # a word the library itself writes stays a term whatever its form
    assert "一批" in vocabulary  # "建设一批…" in the shipped plans
    assert "一批" in salient_terms("要建设一批什么项目", weights, vocabulary)


def _notice_chunk(text: str) -> Chunk:
    return Chunk(
        chunk_id="c1",
        doc_id="d1",
        title="苏州市新型基础设施建设行动计划",
        doc_number="",
        issuer="",
        published="",
        period="",
        completeness="",
        section_parts=(),
        start=0,
        end=len(text),
        text=text,
        token_count=0,
        ordinal=0,
    )


def test_a_notice_s_heading_lines_and_addressees_are_labels_not_sentences() -> None:
    text = (
        "关于印发苏州市新型基础设施建设行动计划的通知\n苏府办〔2024〕7号\n"
        "各市、区人民政府，苏州工业园区管委会，市各委办局，各有关单位：\n"
        "《苏州市新型基础设施建设行动计划》已经市政府同意，现印发给你们，请认真贯彻落实。\n"
    )
    units = units_of(_notice_chunk(text))
    assert [u.is_heading for u in units] == [True, True, False]
    assert units[1].text.startswith("各市、区人民政府") and units[1].text.endswith("：")
    assert units[2].text.startswith("《苏州市")
    # a paragraph that only names bodies in passing is content
    plain = units_of(_notice_chunk("支持各区人民政府建设算力中心，各部门配合。\n"))
    assert not any(u.is_heading for u in plain)


def test_a_period_in_a_cited_title_is_not_the_document_s_own() -> None:
    from bot.answerers.extractive import _own_words

    assert _own_words("为落实《数字江苏发展规划(2018-2022年)》,提出如下意见。") == "为落实《》,提出如下意见。"


def test_a_word_the_library_lacks_weighs_by_its_rarity_in_the_language() -> None:
    weights = TermWeights({"数据中心": 2.0}, default=4.0)
    assert weights.weight("数据中心") == 2.0  # a word the library writes: its IDF over the passages
    assert weights.weight("用能") == 4.0  # a rare word the library lacks: what the question is about
    assert weights.weight("安排") == 4.0 * MIN_RARITY  # an everyday one: how the question is put
