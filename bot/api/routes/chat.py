"""OpenAI-compatible chat completions: any OpenAI client can talk to the assistant.

The last user message is the question; earlier user messages are replayed into a fresh session so that
follow-up questions ("它的目标呢？") are resolved exactly like in a multi-turn chat."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from bot.answer import Answer, Citation
from bot.api.deps import ServiceDep
from bot.api.errors import PROBLEM_RESPONSES, ProblemError
from bot.api.hooks import after_answer, check_length
from bot.api.routes.ask import error_event, start_stream
from bot.api.schemas import (
    ChatChoice,
    ChatChoiceMessage,
    ChatCompletion,
    ChatCompletionRequest,
    ChatUsage,
    ModelCard,
    ModelList,
)
from bot.api.streaming import SSE_HEADERS, iterate
from bot.service import AssistantService, InvalidQuestion

MODEL_ID = "policybot"
router = APIRouter(tags=["openai-compatible"])


def footnotes(citations: list[Citation]) -> str:
    lines = []
    seen: set[int] = set()
    for c in citations:
        if c.n in seen:
            continue
        seen.add(c.n)
        line = f"[{c.n}] 《{c.title}》{c.doc_number}"
        if c.section_path:
            line += f" {c.section_path}"
        lines.append(line)
    return "\n\n" + "\n".join(lines) if lines else ""


def split_messages(body: ChatCompletionRequest) -> tuple[str, list[str]]:
    turns = [(m.role, m.text()) for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user":
        raise ProblemError(422, "最后一条消息必须是用户提问（role=user）。", title="Invalid messages")
    question = turns[-1][1]
    earlier = [text for role, text in turns[:-1] if role == "user" and text.strip()]
    return question, earlier


def replay_history(service: AssistantService, session_id: str, earlier: list[str]) -> None:
    for text in earlier[-10:]:
        try:
            service.ask(text[:2000], session_id=session_id)
        except InvalidQuestion:
            continue


def completion_id(answer_id: str) -> str:
    return f"chatcmpl-{answer_id}"


@router.get("/models", response_model=ModelList, summary="Models (OpenAI-compatible)")
async def models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID)])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="Chat completion (OpenAI-compatible)",
    responses={
        **PROBLEM_RESPONSES,
        200: {
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string"},
                    "example": 'data: {"object": "chat.completion.chunk", "choices": [{"index": 0, '
                    '"delta": {"content": "……"}, "finish_reason": null}]}\n\ndata: [DONE]\n\n',
                }
            }
        },
    },
)
async def chat_completions(body: ChatCompletionRequest, request: Request, service: ServiceDep):
    question, earlier = split_messages(body)
    check_length(question)
    session_id = f"chat-{uuid.uuid4().hex}" if earlier else None
    if session_id:
        await run_in_threadpool(replay_history, service, session_id, earlier)
    model = body.model or MODEL_ID
    created = int(time.time())

    if not body.stream:
        try:
            answer: Answer = await run_in_threadpool(service.ask, question, session_id=session_id)
        finally:
            if session_id:
                await run_in_threadpool(service.reset, session_id)
        await after_answer(request, answer)
        usage = answer.usage
        return ChatCompletion(
            id=completion_id(answer.answer_id),
            created=created,
            model=model,
            choices=[
                ChatChoice(message=ChatChoiceMessage(content=answer.answer + footnotes(answer.citations)))
            ],
            usage=ChatUsage(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                total_tokens=usage.prompt_tokens + usage.completion_tokens,
            ),
            system_fingerprint=answer.index_version or None,
            citations=answer.citations,
        )

    iterator = service.stream(question, session_id=session_id)
    try:
        first = await start_stream(iterator)
    except BaseException:
        if session_id:
            await run_in_threadpool(service.reset, session_id)
        raise
    chunk_id = f"chatcmpl-{uuid.uuid4().hex}"

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        import json

        payload = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    async def events() -> AsyncIterator[str]:
        try:
            yield chunk({"role": "assistant", "content": ""})
            async for item in iterate(iterator, first):
                if isinstance(item, Answer):
                    await after_answer(request, item)
                    if item.lead:
                        # an OpenAI client can only append: the verified lead follows the extract it summarises
                        yield chunk({"content": f"\n\n{item.lead}"})
                    notes = footnotes(item.citations)
                    if notes:
                        yield chunk({"content": notes})
                    yield chunk(
                        {},
                        "stop",
                        citations=[c.model_dump(mode="json") for c in item.citations],
                        answer_id=item.answer_id,
                    )
                elif item.kind == "extract":
                    yield chunk({"content": item.text})
        except Exception as exc:
            yield error_event(request, exc).replace("event: error\n", "")
        finally:
            if session_id:
                await run_in_threadpool(service.reset, session_id)
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
