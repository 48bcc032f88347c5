"""A figure asked for must be a figure of what is asked: "农村宽带用户占比要达到多少" is not answered by the only
sentence with a percentage, a data centre's, when no sentence giving a figure writes a word of the question's
subject (there, or in its section's heading). A library of another province (written here)."""

from __future__ import annotations

import pytest

from bot.answerers.extractive import _figures_of_another_subject
from bot.evidence import units_of
from bot.service import AssistantService
from retrieval.chunking import Chunk
from retrieval.embeddings import E5Embeddings
from tests.support.answers import answered
from tests.support.chunks import chunk
from tests.support.libraries import JIANGSU_PLAN_NOTICE, service_over

PLAN = (
    JIANGSU_PLAN_NOTICE
    + """一、发展目标
到2026年，全省新型基础设施建设水平位居全国前列。
二、重点任务
(一)优化布局数据中心。新建大型数据中心PUE值低于1.3，上架率高于65%。(责任单位：省发展改革委)
(二)建设智能充电网络。全省建成公共充电桩20万个。
"""
)


@pytest.fixture(scope="module")
def service(e5: E5Embeddings, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    return service_over(tmp_path_factory.mktemp("figures-of-the-subject"), {"province-plan.txt": PLAN}, e5)


DATA_CENTRES = chunk(
    "新建大型数据中心PUE值低于1.3，上架率高于65%。", section=("二、重点任务", "(一)优化布局数据中心。")
)
NETWORKS = chunk("推动光纤网络广泛接入。", n=1, section=("二、重点任务", "(二)推进城乡网络覆盖。"))
CHARGING = chunk("全省建成公共充电桩20万个。", n=2, section=("二、重点任务", "(三)建设智能充电网络。"))


@pytest.mark.parametrize(
    ("question", "terms", "chunks", "another"),
    [
        # the only figure is a data centre's; the sentence that writes the question's word gives none
        (
            "江苏农村宽带接入用户比例要达到多少？",
            {"农村": 2.0, "宽带": 2.0, "接入": 1.5},
            [NETWORKS, DATA_CENTRES],
            True,
        ),
        ("江苏光纤入户率要达到百分之多少？", {"光纤": 2.0, "入户率": 2.0}, [DATA_CENTRES], True),
        ("江苏数据中心上架率要求是多少？", {"数据中心": 2.0, "上架率": 2.0}, [DATA_CENTRES], False),
        (
            "智能充电网络要建多少个？",
            {"智能": 1.0, "充电": 2.0, "网络": 1.0},
            [CHARGING],
            False,
        ),  # its heading
        ("江苏要建多少个？", {"江苏": 2.0}, [CHARGING], False),  # a place is no subject: nothing to compare
    ],
)
def test_figures_that_write_no_word_of_the_subject_are_of_another(
    question: str, terms: dict[str, float], chunks: list[Chunk], another: bool
) -> None:
    units = [u for c in chunks for u in units_of(c)]
    assert _figures_of_another_subject(question, terms, units) is another


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("江苏对新建数据中心的上架率要求是多少？", "65%"),
        ("江苏要建成多少个公共充电桩？", "20万"),
        ("智能充电网络这一项，江苏要建多少个？", "20万"),  # the subject is the section's heading
    ],
)
def test_a_figure_of_the_subject_asked_is_answered(
    service: AssistantService, question: str, fact: str
) -> None:
    answered(service, question, fact)
