"""POST /v1/ask: one grounded, cited answer (JSON, or server-sent events when streaming)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from bot.answer import Answer, AnswerEvent
from bot.api.deps import ServiceDep
from bot.api.errors import PROBLEM_RESPONSES, problem_body
from bot.api.hooks import after_answer, check_length
from bot.api.schemas import AskRequest
from bot.api.streaming import SSE_HEADERS, anext_in_thread, is_end, iterate, sse
from bot.service import InvalidQuestion

log = logging.getLogger("policybot.api")
router = APIRouter(tags=["ask"])


def wants_stream(request: Request, stream: bool) -> bool:
    return stream or "text/event-stream" in request.headers.get("accept", "")


def error_event(request: Request, exc: BaseException) -> str:
    request.app.state.metrics.errors.labels(kind=type(exc).__name__).inc()
    if isinstance(exc, InvalidQuestion):
        return sse("error", problem_body(422, str(exc), "Invalid question"))
    log.error("streamed answer failed: %s", type(exc).__name__, exc_info=exc)
    return sse("error", problem_body(500, "服务器内部错误，请稍后再试。"))


def answer_event_sse(event: AnswerEvent) -> list[tuple[str, Any]]:
    """An extract is `delta` events line by line, then its citations; a lead piece is a `lead` event (with
    `"restart": true` when the lead so far is withdrawn and the model writes it again)."""
    if event.kind == "lead":
        if event.restart:
            return [("lead", {"text": event.text, "restart": True})]
        return [("lead", {"text": event.text})] if event.text else []
    lines = [("delta", {"text": line}) for line in event.text.splitlines(keepends=True)]
    return [*lines, ("citations", [c.model_dump(mode="json") for c in event.citations])]


async def start_stream(iterator: Iterator[Any]) -> Any:
    """Fetch the first item before the response starts, so a bad question is still a 4xx problem."""
    return await anext_in_thread(iterator)


@router.post(
    "/ask",
    response_model=Answer,
    summary="Ask a policy question",
    responses={
        **PROBLEM_RESPONSES,
        200: {
            "description": "the Answer; with ?stream=true or Accept: text/event-stream, server-sent events: "
            "the verbatim extract at once as `delta` {text} events and its `citations` [Citation]; in a "
            "generative mode then `lead` {text} pieces of the model's one- or two-sentence lead as it writes "
            "them; last `citations` and `done` Answer (authoritative: `lead`/`answer` hold the lead only when "
            "it passed verification, otherwise the extract stands alone)",
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string"},
                    "example": 'event: delta\ndata: {"text": "……"}\n\nevent: citations\ndata: [...]\n\n'
                    'event: lead\ndata: {"text": "……"}\n\n'
                    'event: done\ndata: {"answer_id": "…", "answer": "……", "lead": "……", "citations": [...]}\n\n',
                }
            },
        },
    },
)
async def ask(
    body: AskRequest,
    request: Request,
    service: ServiceDep,
    stream: bool = Query(False, description="stream the answer as server-sent events", examples=[False]),
):
    check_length(body.question)
    kwargs = {
        "session_id": body.session_id,
        "mode": body.mode,
        "top_k": body.top_k,
        "filters": body.filters.as_dict() if body.filters else None,
    }
    if not wants_stream(request, stream):
        answer = await run_in_threadpool(service.ask, body.question, **kwargs)
        await after_answer(request, answer)
        return answer

    iterator = service.stream(body.question, **kwargs)
    first = await start_stream(iterator)

    async def events() -> AsyncIterator[str]:
        try:
            async for item in iterate(iterator, first):
                if isinstance(item, Answer):
                    await after_answer(request, item)
                    yield sse("citations", [c.model_dump(mode="json") for c in item.citations])
                    yield sse("done", item.model_dump(mode="json"))
                else:
                    for event, data in answer_event_sse(item):
                        yield sse(event, data)
        except Exception as exc:
            yield error_event(request, exc)

    if is_end(first):  # pragma: no cover - stream always ends with an Answer
        return []
    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
