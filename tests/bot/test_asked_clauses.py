"""What a message asks is read in the clauses that ask, not in the asker's account of themselves or in the
sentences that only tell: a place the asker lives or works in is no place the question is about, and a site the
asker mentions is no site asked for. A city's plan written here, not the shipped corpus."""

from __future__ import annotations

import pytest

from bot.question import analyze
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import SUZHOU_PLAN_NOTICE, service_over

CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、发展目标
到2026年，全市累计建成5G基站6.5万个，率先在工业园区开展千兆城市试点。
二、重点任务
(一)开放公共设施。推动党政机关、国有企业所属楼宇和杆塔向5G基站建设开放。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("asked"), {"city-plan.txt": CITY_PLAN}, e5)


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("我在无锡做宽带业务，想知道苏州的千兆城市试点先在哪里开展？", "工业园区"),
        ("我们公司总部在南通，请问苏州计划要求哪些单位的楼宇向5G开放？", "党政机关"),
    ],
)
def test_the_askers_own_place_is_not_what_is_asked(
    service: AssistantService, question: str, fact: str
) -> None:
    answered(service, question, fact)


def test_a_place_the_question_asks_about_is_still_refused(service: AssistantService) -> None:
    answer = refused(service, "无锡到2026年要建成多少个5G基站？")
    assert "无锡" in (answer.refusal_reason or "")


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        # the asker's story names a site; the question asks whether facilities must be opened
        (
            "我们是做5G网络建设的，选址时经常遇到机关大楼进不去的情况。想问下苏州计划有没有要求机关设施向5G开放？",
            (),
        ),
        ("苏州的5G基站建在哪个区？", ("district",)),
        # an English request is asked as a question is
        (
            "I run a small firm in Suzhou. Who handles 5G permits? Please give me the office phone number.",
            ("phone",),
        ),
    ],
)
def test_a_kind_of_fact_is_read_in_the_clauses_that_ask(question: str, kinds: tuple[str, ...]) -> None:
    assert analyze(question).answer_types == kinds


def test_a_site_in_the_askers_story_does_not_refuse_the_question(service: AssistantService) -> None:
    answered(
        service,
        "我们是做5G网络建设的，选址时经常遇到机关大楼进不去的情况。想问下苏州计划有没有要求机关设施向5G开放？",
        "党政机关",
    )
