"""A question that asks for a day ("哪天", "几月几日", "on what date") is answered by a text that writes a day; "哪天"
beside a deadline asks the deadline's day, not the day of publication. A library of another city (written
here), not the shipped corpus."""

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
到2026年，全市累计建成5G基站6.5万个。
二、重点任务
(一)开展智慧园区示范。每年遴选一批智慧园区示范项目，由市工业和信息化局组织申报和评审。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("days"), {"city-plan.txt": CITY_PLAN}, e5)


@pytest.mark.parametrize(
    ("question", "fields"),
    [
        ("苏州计划的截止时间是哪天？", ("deadline",)),
        ("截止时间是哪天？", ()),  # no document named: the deadline of something the text speaks of
        ("苏州计划是哪天印发的？", ("published",)),
        ("苏州计划哪天发布的，哪天施行？", ("published", "effective")),
        ("这份文件哪天生效？", ("effective",)),
        # the verbs of taking effect: 施行, 实施, 实行, 执行 (a document's 执行期 is its period, not this)
        ("苏州计划什么时候开始执行？", ("effective",)),
        ("苏州那个计划啥时候开始实行的？", ("effective",)),
        ("苏州计划是谁发的？何时起执行？", ("issuer", "effective")),
        ("苏州计划是几月几日印发的？", ("published",)),
        ("苏州计划的公布日期是哪天？", ("published",)),
        # a day asked of something the text speaks of, without publication, is not the day of publication
        ("智慧园区示范项目的申报截止日期是哪天？", ()),
        ("示范项目什么日期开始评审？", ()),
    ],
)
def test_a_day_is_the_day_of_the_field_asked(question: str, fields: tuple[str, ...]) -> None:
    assert analyze(question).metadata_fields == fields


@pytest.mark.parametrize(
    "question", ["智慧园区示范项目的申报截止时间是哪天？", "智慧园区示范项目的申报截止日期是哪天？"]
)
def test_a_day_the_text_does_not_give_is_refused(service: AssistantService, question: str) -> None:
    answer = refused(service, question)
    assert "日期" in (answer.refusal_reason or "")
    assert "2024年2月1日" not in answer.answer  # the day of publication is no deadline


def test_a_day_the_text_gives_is_answered(service: AssistantService) -> None:
    answered(service, "苏州计划是哪天印发的？", "2024年2月1日")
