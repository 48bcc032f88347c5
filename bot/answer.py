"""The typed results: the one `Answer` every surface shows (API, Telegram, CLI --json, the eval runner), and
the conversation `Turn` the stores keep and the chain reads."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field

REFUSAL_SENTENCE = "根据现有政策文件，无法回答该问题。"


class Citation(BaseModel):
    n: int = Field(description="the [n] marker used in the answer text")
    doc_id: str
    title: str
    doc_number: str = Field("", description="文号")
    section_path: str
    quote: str = Field(description="original text, located by start/end in the document body")
    start: int
    end: int
    score: float = 0.0
    source: Literal["text", "header"] = Field(
        "text",
        description="text: the quote is the body at start:end; header: a field of the document's header (front "
        "matter), quoted as 字段名：value, with start = end = 0",
    )


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class AnswerEvent(BaseModel):
    """What a streaming surface shows before the final Answer: the verbatim extract with its citations (at
    once), then the pieces of the model's lead as they come (generative modes). A lead event with `restart`
    withdraws the lead streamed so far (it failed the check): the pieces that follow are the model's second try."""

    kind: Literal["extract", "lead"]
    text: str
    citations: list[Citation] = Field(default_factory=list)
    restart: bool = False


class Turn(BaseModel):
    """One answered question of a conversation, as the condenser and the answerers read it back."""

    question: str
    standalone_question: str
    answer: str
    refused: bool = False
    doc_ids: list[str] = Field(default_factory=list)
    list_items: list[str] = Field(default_factory=list, description="section paths of an enumerated answer")
    section_paths: list[str] = Field(default_factory=list)
    created: float = Field(default_factory=time.time)


class Answer(BaseModel):
    answer_id: str
    answer: str = Field(description="answer text with [n] citation markers")
    lead: str = Field(
        "",
        description="generative modes: the model's verified one- or two-sentence lead, which `answer` starts "
        "with (the verbatim extract follows it); empty when the extract stands alone",
    )
    refused: bool = False
    refusal_reason: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    mode: Literal["extractive", "openai", "local"] = "extractive"
    session_id: str | None = None
    question: str = ""
    standalone_question: str = ""
    usage: Usage = Field(default_factory=Usage)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    notices: list[str] = Field(default_factory=list)
    index_version: str = ""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "answer_id": "a1b2c3",
                    "answer": "依据《苏州市新型基础设施建设三年行动计划(2021-2023年)》（苏府办〔2021〕78号）：\n"
                    "注重信息基础设施和融合基础设施的协同,发挥创新基础设施的共性支撑作用。[1]",
                    "refused": False,
                    "refusal_reason": None,
                    "citations": [
                        {
                            "n": 1,
                            "doc_id": "suzhou-new-infra-2021",
                            "title": "苏州市新型基础设施建设三年行动计划(2021-2023年)",
                            "doc_number": "苏府办〔2021〕78号",
                            "section_path": "二、基本原则 › (二)把握系统性,统筹推进、融合发展",
                            "quote": "注重信息基础设施和融合基础设施的协同,发挥创新基础设施的共性支撑作用。",
                            "start": 1450,
                            "end": 1487,
                            "score": 0.5,
                        }
                    ],
                    "mode": "extractive",
                    "session_id": None,
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0},
                    "timings_ms": {"retrieve": 30.1, "generate": 2.0, "total": 33.0},
                    "notices": ["该计划的执行期为2021-2023年，已结束。"],
                }
            ]
        }
    }
