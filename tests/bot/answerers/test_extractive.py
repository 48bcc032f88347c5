"""Sentence choice of the extractive answerer on passages written here."""

from __future__ import annotations

from bot.answerers.extractive import SENTENCE_PASSAGES, ExtractiveAnswerer
from retrieval.chunking import Chunk
from retrieval.retriever import Passage

OTHER = [
    "养老服务机构要完善护理制度。",
    "社区卫生服务中心延长服务时间。",
    "中小学校园安全管理要加强。",
    "公共文化场馆免费开放。",
]


def passage(n: int, text: str) -> Passage:
    chunk = Chunk(
        chunk_id=f"c{n}",
        doc_id=f"d{n}",
        title=f"文件{n}",
        doc_number="",
        issuer="",
        published="",
        period="",
        completeness="",
        section_parts=(f"第{n}部分",),
        start=0,
        end=len(text),
        text=text,
        token_count=len(text),
        ordinal=n,
    )
    return Passage(chunk=chunk, score=1.0 / (n + 1))


def test_the_answering_sentence_may_come_from_a_lower_ranked_passage() -> None:
    # retrieval ranked the passage that answers fourth: its sentence is still a candidate and leads
    answer = "港口物流园区的网络带宽要达到一百G。"
    texts = [*OTHER[: SENTENCE_PASSAGES - 1], answer, *OTHER[SENTENCE_PASSAGES - 1 :]]
    passages = [passage(i, t) for i, t in enumerate(texts)]
    draft = ExtractiveAnswerer()._sentences({"港口": 2.0, "带宽": 3.0}, passages)
    assert draft.units and draft.units[0].text == answer
