"""A question that asks which bodies are charged with a task, in any of the language's ways of asking it ("由哪些单位
负责", "是哪几个机构来管的", "什么部门牵头"), is answered with the sentence that names them: a task's closing note
"(责任单位:…)" rather than the task's first sentences. A library of another city (written here)."""

from __future__ import annotations

import pytest

from bot.question import analyze
from bot.service import AssistantService
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered
from tests.support.libraries import SUZHOU_PLAN_NOTICE, service_over

CITY_PLAN = (
    SUZHOU_PLAN_NOTICE
    + """一、发展目标
到2026年，全市累计建成5G基站6.5万个，新建充电桩3万个。
二、重点任务
1.建设智能充电网络。优化充电桩布局，到2026年新建充电桩3万个，提升公共充电服务覆盖率。推动充电设施与停车场一体化建设，培育5个充电服务示范片区。(责任单位：市发展改革委、市交通运输局、市住房城乡建设局)
2.推进城市算力建设。建设城市算力调度平台，推动公共数据开放共享。(责任单位：市大数据局)
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("charged-bodies"), {"city-plan.txt": CITY_PLAN}, e5)


@pytest.mark.parametrize(
    "question",
    [
        "苏州计划里“建设智能充电网络”这项任务由哪些单位负责？",
        "苏州计划里建设智能充电网络是哪几个单位管的啊？",
        "蘇州計劃裡「建設智能充電網絡」這項任務由哪些單位負責？",
    ],
)
def test_the_bodies_charged_with_a_task_are_the_answer(service: AssistantService, question: str) -> None:
    answered(service, question, "市交通运输局")


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("这项任务由哪些单位负责？", ("department",)),
        ("是哪几个机构来管的？", ("department",)),
        ("什么部门牵头？", ("department",)),
        ("苏州计划是哪个部门印发的？", ()),  # the document's issuer, not a body charged with a task
        ("哪些单位可以申报示范项目？", ()),  # who may apply is not who is charged
    ],
)
def test_a_body_asked_with_its_charge_asks_for_a_department(question: str, kinds: tuple[str, ...]) -> None:
    assert analyze(question).answer_types == kinds
