"""POST /v1/feedback: 👍/👎 on an answer, stored durably."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from bot.api.deps import FeedbackDep
from bot.api.errors import PROBLEM_RESPONSES
from bot.api.schemas import FeedbackOut, FeedbackRequest

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=201,
    summary="Rate an answer",
    responses=PROBLEM_RESPONSES,
)
async def feedback(body: FeedbackRequest, store: FeedbackDep) -> FeedbackOut:
    row = await run_in_threadpool(store.add_feedback, body.answer_id, body.rating, body.comment, "api")
    return FeedbackOut(**row)
