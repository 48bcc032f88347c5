"""Errors as JSON problem details ({type, title, detail, status}); never a stack trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.service import InvalidQuestion
from retrieval.documents import DocumentError
from retrieval.index import IndexNotReady
from retrieval.library import DocumentNotFound

log = logging.getLogger("policybot.api")
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    detail: str = ""
    status: int


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": HTTPStatus(code).phrase}
    for code in (401, 403, 404, 413, 422, 429, 503)
}


def problem_body(status: int, detail: str = "", title: str | None = None) -> dict[str, Any]:
    title = title or HTTPStatus(status).phrase
    slug = title.lower().replace(" ", "-")
    return {
        "type": f"https://policybot.local/problems/{slug}",
        "title": title,
        "detail": detail,
        "status": status,
    }


def problem(status: int, detail: str = "", title: str | None = None, headers: dict[str, str] | None = None):
    return JSONResponse(
        problem_body(status, detail, title),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _count_error(request: Request, kind: str) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(kind=kind).inc()


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError):
        return problem(exc.status, exc.detail, exc.title, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{loc}: {err.get('msg', '')}" if loc else str(err.get("msg", "")))
        return problem(422, "; ".join(parts) or "请求格式不正确", "Unprocessable Content")

    @app.exception_handler(InvalidQuestion)
    async def _invalid(request: Request, exc: InvalidQuestion):
        return problem(422, str(exc), "Invalid question")

    @app.exception_handler(DocumentNotFound)
    async def _not_found(request: Request, exc: DocumentNotFound):
        return problem(404, f"未找到文档 {exc.args[0] if exc.args else ''}".strip(), "Document not found")

    @app.exception_handler(DocumentError)
    async def _document(request: Request, exc: DocumentError):
        return problem(422, str(exc), "Invalid document")

    @app.exception_handler(IndexNotReady)
    async def _not_ready(request: Request, exc: IndexNotReady):
        _count_error(request, "index_not_ready")
        return problem(503, "索引尚未就绪，请稍后再试。", "Index not ready", {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        _count_error(request, type(exc).__name__)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "服务器内部错误，请稍后再试。")
