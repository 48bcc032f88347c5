"""Liveness, readiness and Prometheus metrics (not under /v1, no API key)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from bot.api.errors import PROBLEM_RESPONSES, ProblemError
from bot.api.schemas import Status

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Status, summary="Liveness")
async def healthz() -> Status:
    return Status(status="ok")


@router.get("/readyz", response_model=Status, summary="Readiness", responses=PROBLEM_RESPONSES)
async def readyz(request: Request) -> Status:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise ProblemError(503, "服务正在启动。", title="Not ready", headers={"Retry-After": "5"})
    if getattr(request.app.state, "warming", False):
        raise ProblemError(503, "服务正在预热。", title="Not ready", headers={"Retry-After": "1"})
    ready = await run_in_threadpool(service.library.live.is_ready)
    if not ready:
        raise ProblemError(503, "索引尚未就绪。", title="Not ready", headers={"Retry-After": "5"})
    version = service.library.live.current().version
    # a vector store that is down degrades answers to keyword search; the service stays ready
    vectors_up = await run_in_threadpool(service.library.store.heartbeat)
    return Status(
        status="ready" if vectors_up else "degraded", index_version=version, degraded=not vectors_up
    )


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {
                CONTENT_TYPE_LATEST: {
                    "schema": {"type": "string"},
                    "example": "# TYPE policybot_answers_total counter\n"
                    'policybot_answers_total{mode="extractive"} 3.0\n',
                }
            },
        }
    },
)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
