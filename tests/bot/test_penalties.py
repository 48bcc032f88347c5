"""A question that asks for a sanction ("会受到什么处罚", "罚款多少", "what penalties apply") is answered only by a
sentence that gives one: the requirement it would punish ("PUE值低于1.3") is not a penalty. A library of another
province (written here)."""

from __future__ import annotations

import pytest

from bot.question import analyze
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered, refused
from tests.support.libraries import JIANGSU_PLAN_NOTICE, service_over

PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、重点任务
(一)优化布局数据中心。新建大型数据中心PUE值低于1.3，上架率高于65%。(责任单位：省发展改革委)
(二)建设智能充电网络。全省建成公共充电桩20万个。充电设施运营企业未按规定接入省级监测平台的，由省能源局责令限期改正，逾期不改的暂停其运营补贴。
二、保障措施
加强组织领导，建立工作推进机制。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("penalties"), {"province-plan.txt": PLAN}, e5)


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("新建数据中心PUE超标会受到什么处罚？", True),
        ("上架率达不到要求的罚款多少？", True),
        ("不达标的企业有哪些惩罚措施？", True),
        ("What penalties apply to data centres whose PUE is above 1.3?", True),
        ("Are operators fined for not reporting?", True),
        ("新建数据中心PUE要低于多少？", False),
        ("处罚决定由哪个部门作出？", False),  # who decides, not what the sanction is
        ("What principle applies when allocating land?", False),
    ],
)
def test_a_question_asking_for_a_sanction_is_read(question: str, asks: bool) -> None:
    assert ("penalty" in analyze(question).answer_types) is asks


@pytest.mark.parametrize(
    "question",
    [
        "江苏新建数据中心PUE超标的话会受到什么处罚？",
        "江苏数据中心上架率达不到65%要罚款多少？",
        "What penalties apply to data centres in Jiangsu whose PUE is above 1.3?",
    ],
)
def test_a_requirement_without_a_sanction_is_no_penalty(service: AssistantService, question: str) -> None:
    refused(service, question)


def test_a_sentence_that_gives_the_sanction_answers(service: AssistantService) -> None:
    answered(service, "江苏充电设施运营企业不接入省级监测平台会受到什么处罚？", "责令限期改正")
