"""Request and response models of the HTTP API (the answer itself is bot.answer.Answer)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.answer import Citation


class AskRequest(BaseModel):
    question: str = Field(description="the policy question (at most 2000 characters)")
    session_id: str | None = Field(None, max_length=200, description="conversation id for follow-ups")
    mode: Literal["extractive", "openai", "local"] | None = None
    top_k: int | None = Field(None, ge=1, le=50)
    filters: dict[str, Any] | None = Field(None, description='e.g. {"doc_id": "zibo-new-infra-2021"}')

    model_config = {
        "json_schema_extra": {"examples": [{"question": "计划要发挥哪类基础设施的共性支撑作用？"}]}
    }


class PassageOut(BaseModel):
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
    model_config = ConfigDict(extra="allow")

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
    sections: list[str] = Field(default_factory=list, description="section paths in document order")
    text: str = ""


class DeleteResult(BaseModel):
    deleted: str
    index_version: str = ""


class FeedbackRequest(BaseModel):
    answer_id: str = Field(min_length=1, max_length=200)
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)


class FeedbackOut(BaseModel):
    id: int
    answer_id: str
    rating: Literal["up", "down"]
    comment: str = ""
    created: str


class Status(BaseModel):
    status: str
    index_version: str | None = None


# -- OpenAI-compatible chat -----------------------------------------------------------------------
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(str(p.get("text", "")) for p in self.content if p.get("type", "text") == "text")


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = "policybot"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    user: str | None = None


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
    object: Literal["list"] = "list"
    data: list[ModelCard]
