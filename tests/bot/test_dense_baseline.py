"""The relevance gate reads dense similarity relative to the question's own baseline (its mean similarity to a
fixed sample of the library's sentences), and an English question's glossary readings as its content words.

e5's cosines between an English question and Chinese passages sit about 0.1 lower than a Chinese question's, so a
gate that read raw cosines refused every English question of a library it was not fitted on. A water-supply plan
of a city of its own, written here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bot.evidence import (
    BASELINE_SAMPLE,
    SentenceSimilarity,
    Unit,
    UnitVectors,
    _compute_term_weights,
    units_of,
)
from bot.gate import gate_features
from bot.service import AssistantService
from retrieval.chunking import Chunk
from retrieval.embeddings import E5Embeddings
from retrieval.retriever import Passage
from tests.support.chunks import chunk
from tests.support.libraries import service_over

WATER_PLAN = """绍兴市人民政府办公室关于印发绍兴市城市供水保障三年行动计划(2024-2026年)的通知
绍政办发〔2024〕12号
各区、县（市）人民政府，市政府各部门：
《绍兴市城市供水保障三年行动计划(2024-2026年)》已经市政府同意，现印发给你们，请认真贯彻落实。
绍兴市人民政府办公室
2024年3月8日
一、总体目标
到2026年，全市城乡供水一体化覆盖率达到100%，管网漏损率控制在8%以内。
二、重点任务
(一)建设备用水源。新建镜湖备用水源工程，保障极端干旱时连续供水30天。
(二)改造老旧管网。完成老旧供水管网改造500公里，推广智能水表。
(三)推进雨水回用。在新建公共建筑中配套建设雨水收集利用设施，用于绿化浇灌和道路冲洗。
(四)提升水质监测。在水厂和管网关键节点布设在线水质监测设备，实现实时预警。
三、保障措施
(一)加强组织领导。成立由分管副市长任组长的供水保障工作领导小组。
(二)加大资金投入。市财政每年安排专项资金支持供水设施建设。
"""


@pytest.fixture(scope="module")
def water_service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("dense-baseline"), {"water-plan.txt": WATER_PLAN}, e5)


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("How will Shaoxing monitor water quality?", "在线水质监测设备"),
        ("What will be built as a backup water source?", "镜湖备用水源工程"),
        ("How many kilometres of old water pipes will be renovated?", "500公里"),
        ("Who leads the water supply working group?", "分管副市长"),
    ],
)
def test_an_english_question_about_the_library_is_answered(
    water_service: AssistantService, question: str, quoted: str
) -> None:
    answer = water_service.ask(question)
    assert not answer.refused, answer.refusal_reason
    assert quoted in answer.answer, answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "How do I renew my passport in Shaoxing?",
        "What does the Shaoxing plan say about electric vehicle charging stations?",
        "What is the weather in Shaoxing tomorrow?",
        "How much subsidy does each household get for installing smart water meters?",
    ],
)
def test_an_english_question_the_library_does_not_answer_is_still_refused(
    water_service: AssistantService, question: str
) -> None:
    answer = water_service.ask(question)
    assert answer.refused, answer.answer


class _Vectors:
    """Embeddings whose vectors are given: every text maps to a fixed unit vector."""

    def __init__(self, table: dict[str, list[float]], query: list[float]) -> None:
        self.table, self.query = table, query

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.query


class _Snapshot:
    def __init__(self, chunks: list[Chunk]) -> None:
        self.version = "v1"
        self.chunks = chunks


def _chunk(i: int, text: str) -> Chunk:
    return chunk(text, n=i, section=("一、任务",))


def test_the_baseline_is_the_mean_similarity_to_a_bounded_sample_of_the_library() -> None:
    texts = [f"第{i}项任务已经完成。" for i in range(3 * BASELINE_SAMPLE)]
    table = {t: [1.0, 0.0] if i % 2 else [0.0, 1.0] for i, t in enumerate(texts)}
    vectors = UnitVectors(_Vectors(table, [0.6, 0.8]))
    snapshot = _Snapshot([_chunk(i, t) for i, t in enumerate(texts)])
    similarity = vectors.similarity_to("问题")
    sample = vectors.library_sample(snapshot)  # type: ignore[arg-type]
    assert len(sample) == BASELINE_SAMPLE  # the cost per question does not grow with the library
    expected = float(np.mean(sample @ np.array([0.6, 0.8], dtype=np.float32)))
    assert similarity.baseline(snapshot) == pytest.approx(expected, abs=1e-4)  # type: ignore[arg-type]
    assert vectors.library_sample(snapshot) is sample  # cached per index version  # type: ignore[arg-type]


def test_the_gates_dense_features_do_not_move_when_every_similarity_moves_together() -> None:
    """A question in another language is less similar to every passage alike: shifted by the same amount, the
    best passage's and the best sentence's similarity and the baseline leave the gate's features as they were."""
    chunk = _chunk(0, "完成老旧供水管网改造500公里。")
    features = []
    for shift in (0.0, -0.12):
        passages = [Passage(chunk, 1.0, dense_score=0.91 + shift)]

        def similarity(units: Sequence[Unit], shift: float = shift) -> np.ndarray:
            return np.full(len(units), 0.93 + shift)

        weights = _compute_term_weights([chunk.text])
        features.append(
            gate_features(
                "管网改造多少公里", passages, weights, {"管网", "改造"}, {}, similarity, 0.86 + shift
            )
        )
    assert features[0]["dense"] == pytest.approx(features[1]["dense"])
    assert features[0]["unit_dense"] == pytest.approx(features[1]["unit_dense"])
    assert features[0]["dense"] == pytest.approx(0.05)


def test_sentence_similarity_scores_units_at_the_retrievers_precision() -> None:
    vectors = UnitVectors(_Vectors({"甲。": [1.0, 0.0]}, [0.123456789, 0.9]))
    similarity = vectors.similarity_to("问")
    assert isinstance(similarity, SentenceSimilarity)
    (unit,) = units_of(_chunk(0, "甲。"))
    assert similarity([unit])[0] == pytest.approx(0.1235, abs=1e-9)  # SIMILARITY_DECIMALS
