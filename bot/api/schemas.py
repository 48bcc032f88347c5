"""Request and response models of the HTTP API (the answer itself is bot.answer.Answer)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.answer import Citation
from bot.text_input import ClientIdentifier, ClientText

FilterValue = Annotated[ClientIdentifier, Field(min_length=1, max_length=200)]


class AskFilters(BaseModel):
    """Restrict retrieval to some documents (the fields the retriever supports)."""

    model_config = ConfigDict(extra="forbid")

    doc_id: FilterValue | list[FilterValue] | None = Field(None, max_length=50)
    issuer: FilterValue | list[FilterValue] | None = Field(None, max_length=50)

    def as_dict(self) -> dict[str, Any] | None:
        values = {k: v for k, v in self.model_dump(exclude_none=True).items() if v != []}
        return values or None


class AskRequest(BaseModel):
    question: ClientText = Field(description="the policy question (at most 2000 characters)")
    session_id: ClientIdentifier | None = Field(
        None, max_length=200, description="conversation id for follow-ups"
    )
    mode: Literal["extractive", "openai", "local"] | None = None
    top_k: int | None = Field(None, ge=1, le=50)
    filters: AskFilters | None = Field(None, description='e.g. {"doc_id": "suzhou-new-infra-2021"}')

    model_config = {"json_schema_extra": {"examples": [{"question": "全省5G基站建设的目标是多少个？"}]}}


class PassageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "doc_id": "suzhou-new-infra-2021",
                    "title": "苏州市新型基础设施建设三年行动计划(2021-2023年)",
                    "doc_number": "苏府办〔2021〕78号",
                    "section_path": "二、基本原则 › (二)把握系统性,统筹推进、融合发展",
                    "text": "注重信息基础设施和融合基础设施的协同,发挥创新基础设施的共性支撑作用。",
                    "score": 0.0328,
                    "chunk_id": "suzhou-new-infra-2021:3",
                    "start": 1450,
                    "end": 1487,
                }
            ]
        }
    )

    doc_id: str
    title: str
    doc_number: str = ""
    section_path: str = ""
    text: str
    score: float
    chunk_id: str = ""
    start: int = 0
    end: int = 0


class DocumentSummary(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "doc_id": "suzhou-new-infra-2021",
                    "title": "苏州市新型基础设施建设三年行动计划(2021-2023年)",
                    "doc_number": "苏府办〔2021〕78号",
                    "issuer": "苏州市人民政府办公室",
                    "published": "2021-09-27",
                    "period": "2021-2023",
                    "completeness": "partial",
                    "completeness_note": "仅收录正文的部分章节",
                    "chunk_count": 12,
                    "source": "suzhou-new-infra-2021.md",
                }
            ]
        },
    )

    doc_id: str
    title: str
    doc_number: str = ""
    issuer: str = ""
    published: str = ""
    period: str = ""
    completeness: str = "complete"
    completeness_note: str = ""
    chunk_count: int = 0
    source: str = ""


class DocumentDetail(DocumentSummary):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "doc_id": "suzhou-new-infra-2021",
                    "title": "苏州市新型基础设施建设三年行动计划(2021-2023年)",
                    "doc_number": "苏府办〔2021〕78号",
                    "completeness": "partial",
                    "period": "2021-2023",
                    "chunk_count": 12,
                    "sections": ["一、总体要求", "二、基本原则 › (一)把握前瞻性,适度超前、科学布局"],
                    "text": "一、总体要求\n……",
                }
            ]
        },
    )

    sections: list[str] = Field(default_factory=list, description="section paths in document order")
    text: str = ""


class DeleteResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"deleted": "test-upload-2026", "index_version": "20260105T120000-ab12cd"}]
        }
    )

    deleted: str
    index_version: str = ""


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"answer_id": "3f9c2a7e0b1d4c5e8f6a7b8c9d0e1f2a", "rating": "up", "comment": "引用准确"}
            ]
        }
    )

    answer_id: ClientIdentifier = Field(min_length=1, max_length=200)
    rating: Literal["up", "down"]
    comment: ClientText = Field("", max_length=2000)


class FeedbackOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "answer_id": "3f9c2a7e0b1d4c5e8f6a7b8c9d0e1f2a",
                    "rating": "up",
                    "comment": "引用准确",
                    "created": "2026-01-05T08:00:00+00:00",
                }
            ]
        }
    )

    id: int
    answer_id: str
    rating: Literal["up", "down"]
    comment: str = ""
    created: str


class Status(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ok", "index_version": None},
                {"status": "ready", "index_version": "20260105T120000-ab12cd", "degraded": False},
                {"status": "degraded", "index_version": "20260105T120000-ab12cd", "degraded": True},
            ]
        }
    )

    status: str
    index_version: str | None = None
    degraded: bool = Field(
        False, description="the vector store is unreachable: answers use keyword search only"
    )


# -- OpenAI-compatible chat -----------------------------------------------------------------------
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: ClientIdentifier
    content: ClientText | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(str(p.get("text", "")) for p in self.content if p.get("type", "text") == "text")


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "policybot",
                    "messages": [{"role": "user", "content": "全省5G基站建设的目标是多少个？"}],
                    "stream": False,
                }
            ]
        },
    )

    model: ClientIdentifier = "policybot"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    user: ClientIdentifier | None = None


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatChoiceMessage
    finish_reason: str = "stop"
    logprobs: None = None


class ChatUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "chatcmpl-3f9c2a7e0b1d4c5e8f6a7b8c9d0e1f2a",
                    "object": "chat.completion",
                    "created": 1767600000,
                    "model": "policybot",
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": "注重信息基础设施和融合基础设施的协同,发挥创新基础设施的共性支撑作用。[1]\n\n"
                                "[1] 《苏州市新型基础设施建设三年行动计划(2021-2023年)》苏府办〔2021〕78号",
                            },
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    "citations": [],
                }
            ]
        }
    )

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    system_fingerprint: str | None = None
    citations: list[Citation] = Field(default_factory=list)


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "policybot"


class ModelList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "object": "list",
                    "data": [{"id": "policybot", "object": "model", "created": 0, "owned_by": "policybot"}],
                }
            ]
        }
    )

    object: Literal["list"] = "list"
    data: list[ModelCard]
