"""Server-sent events over a plain StreamingResponse; the blocking generator runs in worker threads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool

_END = object()

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(event: str | None, data: Any) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in payload.split("\n")]
    return "\n".join(lines) + "\n\n"


def _next(iterator: Iterator[Any]) -> Any:
    try:
        return next(iterator)
    except StopIteration:
        return _END


async def anext_in_thread(iterator: Iterator[Any]) -> Any:
    """next(iterator) in a worker thread; returns END when exhausted (StopIteration can't cross threads)."""
    return await run_in_threadpool(_next, iterator)


def is_end(item: Any) -> bool:
    return item is _END


async def iterate(iterator: Iterator[Any], first: Any = _END) -> AsyncIterator[Any]:
    if first is not _END:
        yield first
    while True:
        item = await anext_in_thread(iterator)
        if item is _END:
            return
        yield item
