"""A list question's answer is the enumeration of the parts of what it names: "要形成的网络服务格局包括哪些" is
answered by "…形成A、B、C的服务格局", not by an earlier enumeration in a sentence that shares more of the question's
words ("…的总体格局，实现网络服务通畅…"). A library of another province (written here)."""

from __future__ import annotations

import pytest

from bot.evidence import enumerates_asked, units_of
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered
from tests.support.chunks import chunk
from tests.support.libraries import JIANGSU_PLAN_NOTICE, service_over

PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、发展目标
到2026年，基本形成数字设施布局完备、融合应用广泛赋能、创新平台驱动发展的总体格局，实现网络服务通畅、产业动力强劲、城市治理精细，为全省高质量发展打下基础。
——建设长三角网络枢纽示范区。统筹推进骨干网络升级，形成千兆光网深度覆盖、无线专网广泛接入、北斗定位全面应用、工业互联网标识普及的服务格局。
——建设数字治理样板区。政务数据全面共享。
二、保障措施
加强组织领导，建立工作推进机制。
"""
)

PARTS = ("千兆光网深度覆盖", "无线专网广泛接入", "北斗定位全面应用")


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("enumerated-parts"), {"province-plan.txt": PLAN}, e5)


@pytest.mark.parametrize(
    ("sentence", "question", "enumerates"),
    [
        (
            "形成千兆光网深度覆盖、无线专网广泛接入、北斗定位全面应用的服务格局。",
            "要形成的服务格局包括哪些？",
            True,
        ),
        # traditional characters and full-width forms are matched as simplified, compact text
        (
            "形成千兆光網深度覆蓋、無線專網廣泛接入、北斗定位全面應用的服務格局。",
            "要形成的服务格局包括哪些？",
            True,
        ),
        # the same enumeration of another noun is not of what is asked
        (
            "基本形成数字设施布局完备、融合应用广泛赋能、创新平台驱动发展的总体格局，实现网络服务通畅。",
            "服务格局包括哪些？",
            False,
        ),
        # an enumeration that does not end in "的" and a noun describes nothing
        ("推进千兆光网、无线专网、北斗定位建设。", "要建设哪些网络？", False),
    ],
)
def test_an_enumeration_describes_the_noun_after_its_de(
    sentence: str, question: str, enumerates: bool
) -> None:
    (unit,) = units_of(chunk(sentence))
    assert enumerates_asked(unit, question) is enumerates


@pytest.mark.parametrize(
    "question",
    [
        "江苏要形成的网络服务格局包括哪些方面？",
        "江苏想形成一个怎样的服务格局？帮我逐项列出来",
        "江苏 网络服务格局 各项",  # keywords: 各项 asks for the items
    ],
)
def test_the_enumeration_of_what_is_named_answers_the_list_question(
    service: AssistantService, question: str
) -> None:
    answered(service, question, *PARTS)
