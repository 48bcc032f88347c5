"""GET /v1/search: the retrieved passages themselves (no answer composition)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from bot.api.deps import ServiceDep
from bot.api.errors import PROBLEM_RESPONSES
from bot.api.schemas import PassageOut
from bot.text_input import ClientText

router = APIRouter(tags=["search"])


@router.get(
    "/search", response_model=list[PassageOut], summary="Search passages", responses=PROBLEM_RESPONSES
)
async def search(
    service: ServiceDep,
    q: Annotated[
        ClientText,
        Query(min_length=1, max_length=2000, description="query text", examples=["创新基础设施 共性支撑"]),
    ],
    k: Annotated[int, Query(ge=1, le=50, description="number of passages", examples=[5])] = 5,
) -> list[PassageOut]:
    result = await run_in_threadpool(service.library.search, q, k)
    return [
        PassageOut(**{f: v for f, v in p.as_dict().items() if f in PassageOut.model_fields})
        for p in result.passages
    ]
