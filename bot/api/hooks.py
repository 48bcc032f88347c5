"""What happens to every answer the API produces: metrics and (when enabled) the answer log."""

from __future__ import annotations

import logging

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from bot.answer import Answer

log = logging.getLogger("policybot.api")


async def after_answer(request: Request, answer: Answer) -> None:
    state = request.app.state
    state.metrics.record_answer(answer)
    store = getattr(state, "feedback_store", None)
    if store is not None and getattr(state.settings, "log_answers", True):
        try:
            await run_in_threadpool(store.log_answer, answer)
        except Exception:  # the answer log must never break answering
            state.metrics.errors.labels(kind="answer_log").inc()
            log.warning("could not log answer %s", answer.answer_id, exc_info=True)


def check_length(question: str | None) -> None:
    from bot.api.errors import ProblemError
    from bot.service import MAX_QUESTION_CHARS

    length = len((question or "").replace("\x00", "").strip())
    if length > MAX_QUESTION_CHARS:
        raise ProblemError(
            413, f"问题过长（{length}字），请控制在{MAX_QUESTION_CHARS}字以内。", title="Question too long"
        )
