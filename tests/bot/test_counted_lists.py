"""A list question about a counted set ("那12个示范园具体是哪些？") is refused when the document gives only how
many, and answered when it names them. A library of another city (written here), not the shipped corpus."""

from __future__ import annotations

import pytest

from bot.question import counts_in
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.libraries import WUXI_DIGITAL_PLAN, service_over

CITY_PLAN = WUXI_DIGITAL_PLAN


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("counted"), {"city-plan.txt": CITY_PLAN}, e5)


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("建成12个物联网示范园区，培育8个数字产业集群", [12, 8]),
        ("做强三大产业", [3]),
        ("到2026年建成11.2万个基站", []),  # a figure, not a count of named things
        ("2026年", []),
    ],
)
def test_counts_a_text_writes(text: str, counts: list[int]) -> None:
    assert counts_in(text) == counts
    assert counts_in(text, digits_only=True) == [n for n in counts if n != 3]  # "三大" is in Chinese numerals


@pytest.mark.parametrize(
    "question",
    [
        "无锡方案里那12个物联网示范园区具体是哪些？",
        "无锡要培育的8个数字产业集群分别是哪8个？",
        "无锡方案说建12个示范园区，能列一下都有哪些园区吗？",
    ],
)
def test_a_count_the_document_does_not_enumerate_is_refused(service: AssistantService, question: str) -> None:
    answer = service.ask(question)
    assert answer.refused, answer.answer
    assert "没有逐一列出" in (answer.refusal_reason or "")


def test_a_count_the_document_enumerates_is_answered(service: AssistantService) -> None:
    answer = service.ask("无锡方案要做强的三大产业分别是哪些？")
    assert not answer.refused, answer.answer
    assert all(name in answer.answer for name in ("物联网", "集成电路", "软件和信息服务"))
