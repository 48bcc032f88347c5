"""A government body the documents never name is no subject they speak about: a ministry where it acts as one
("…部关于…", "…部印发的") as well as a bureau or department; words that only end in 部 (内部, 总部) are no body.
A library of another city (written here), not the shipped corpus."""

from __future__ import annotations

import pytest

from bot.question import named_bodies
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import refused
from tests.support.libraries import SUZHOU_PLAN_NOTICE, service_over

CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、重点任务
(一)推进5G基站共建共享。统筹全市5G基站站址资源，推动铁塔、杆塔等设施共建共享。(市工业和信息化局负责)
"""
)


@pytest.mark.parametrize(
    ("question", "bodies"),
    [
        ("工信部关于5G基站共建共享有哪些规定？", ["工信部"]),
        ("财政部印发的补贴办法有哪些？", ["财政部"]),
        ("市工业和信息化局负责什么？", ["息化局"]),
        ("公司总部关于选址有什么规定？", []),
        ("省里内部要求是什么？", []),
        ("西部地区有什么安排？", []),
    ],
)
def test_bodies_a_question_names(question: str, bodies: list[str]) -> None:
    assert named_bodies(question) == bodies


def test_a_ministry_the_documents_never_name_is_refused(
    e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    service: AssistantService = service_over(
        tmp_path_factory.mktemp("bodies"), {"city-plan.txt": CITY_PLAN}, e5
    )
    answer = refused(service, "工信部关于5G基站共建共享有哪些全国性的规定？")
    assert "工信部" in (answer.refusal_reason or "")
