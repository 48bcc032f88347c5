"""The FastAPI application: `create_app()` is what `policybot serve` runs."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api.deps import ApiKeyDep, RateLimiter, configured_api_keys
from bot.api.errors import ProblemError, install_handlers, problem_body
from bot.api.metrics import ApiMetrics
from bot.api.routes import ask, chat, documents, feedback, health, search
from bot.cluster.redis_state import RedisRateLimiter
from bot.cluster.wiring import redis_from_settings
from bot.config import Settings, get_settings
from bot.service import AssistantService
from bot.storage.feedback import FeedbackStore
from bot.storage.opening import database_for

log = logging.getLogger("policybot.api")
STATIC_DIR = Path(__file__).resolve().parents[1] / "web" / "static"
UPLOAD_OVERHEAD = 64 * 1024  # multipart framing on top of the file itself


class RequestContextMiddleware:
    """X-Request-ID on every response, an access log line, request metrics, early upload size check."""

    def __init__(
        self, app: ASGIApp, metrics: ApiMetrics, max_upload_bytes: int, templates: Callable[[], list[str]]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_upload_bytes + UPLOAD_OVERHEAD
        self._templates = templates
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None

    def route_template(self, path: str) -> str:
        """The route template (`/v1/documents/{doc_id}`) so metric labels stay low-cardinality."""
        if self._compiled is None:
            self._compiled = [(compile_path(t)[0], t) for t in self._templates()]
        for pattern, template in self._compiled:
            if pattern.match(path):
                return template
        return "/static" if path.startswith("/static/") else "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1").strip()
        request_id = (
            incoming if incoming and len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                raw.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": raw}
            await send(message)

        try:
            length = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            length = 0
        if (
            scope["method"] == "POST"
            and scope["path"].rstrip("/") == "/v1/documents"
            and length > self.max_body
        ):
            import json

            body = json.dumps(
                problem_body(
                    413,
                    f"文件超过 {(self.max_body - UPLOAD_OVERHEAD) // (1024 * 1024)} MB 上限。",
                    "Upload too large",
                ),
                ensure_ascii=False,
            ).encode()
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_wrapper({"type": "http.response.body", "body": body})
            self._record(scope, 413, started, request_id)
            return
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self._record(scope, status, started, request_id)

    def _record(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        template = self.route_template(scope["path"])
        method = scope["method"]
        self.metrics.requests.labels(route=template, method=method, status=str(status)).inc()
        self.metrics.latency.labels(route=template, method=method).observe(elapsed)
        if status >= 500:
            self.metrics.errors.labels(kind=f"http_{status}").inc()
        log.info("%s %s %s %.1fms rid=%s", method, scope["path"], status, elapsed * 1000, request_id)


def _build_service(settings: Settings) -> AssistantService:
    return AssistantService.from_settings(settings)


def _prepare(app: FastAPI, service: AssistantService) -> None:
    started = time.perf_counter()
    try:
        service.documents.ensure_built()
        service.warm_up()
        service.follow_published_index()
        log.info(
            "index ready: %s (warmed up in %.1fs)",
            service.library.live.is_ready(),
            time.perf_counter() - started,
        )
    except Exception:
        app.state.metrics.errors.labels(kind="startup").inc()
        log.exception("building or warming up the index failed; /readyz stays 503 unless an index is loaded")
    finally:
        app.state.warming = False


def _telegram_application(service: AssistantService | None, settings: Settings) -> tuple[Any, str] | None:
    """The PTB Application for webhook mode, when both the bot token and the webhook secret are set."""
    from bot.channels.telegram.config import TelegramConfig

    config = TelegramConfig.from_settings(settings)
    if not (config.token and config.webhook_secret):
        return None
    from bot.channels.telegram.builder import build_application

    return build_application(service, settings, config=config), config.webhook_secret


def _telegram_ready(request: Request) -> None:
    if not getattr(request.app.state, "telegram_running", False):
        raise ProblemError(
            503, "Telegram 机器人尚未就绪。", title="Telegram not ready", headers={"Retry-After": "5"}
        )


async def _start_telegram(app: FastAPI, settings: Settings, service: AssistantService) -> None:
    from bot.channels.telegram import webhook

    application = app.state.telegram
    application.bot_data["service"] = service
    url = getattr(settings, "telegram_webhook_url", None) or None
    if not url:
        log.warning("telegram_webhook_url not set: setWebhook is not called (register the webhook yourself)")
    try:
        await webhook.start(application, url, app.state.telegram_secret)
    except Exception:
        app.state.metrics.errors.labels(kind="telegram_startup").inc()
        log.exception("starting the Telegram webhook application failed; /telegram/webhook answers 503")
        return
    app.state.telegram_running = True
    log.info("Telegram webhook mode: updates at %s", url or webhook.WEBHOOK_PATH)


async def _stop_telegram(app: FastAPI) -> None:
    from bot.channels.telegram import webhook

    if not app.state.telegram_running:
        return
    app.state.telegram_running = False
    app.state.warming = False
    try:
        await webhook.stop(app.state.telegram)
    except Exception:
        log.exception("stopping the Telegram application failed")


def _wecom_channel(settings: Settings) -> Any:
    """The WeCom channel when POLICYBOT_WECOM_CORP_ID is set (its other settings are then required)."""
    from bot.channels.wecom.channel import WeComChannel, WeComConfig

    config = WeComConfig.from_settings(settings)
    return WeComChannel(config) if config is not None else None


def _wecom_ready(request: Request) -> None:
    if not request.app.state.wecom.ready:
        raise ProblemError(
            503, "企业微信应用尚未就绪。", title="WeCom not ready", headers={"Retry-After": "5"}
        )


def _rate_limiter(settings: Settings) -> Any:
    """One limit per client: in this process, or across every replica through Redis."""
    per_minute = int(getattr(settings, "rate_limit_per_minute", 0) or 0)
    if per_minute <= 0:
        return None
    redis = redis_from_settings(settings) if getattr(settings, "redis_url", None) else None
    return RedisRateLimiter(redis, per_minute) if redis is not None else RateLimiter(per_minute)


def create_app(service: AssistantService | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    metrics = ApiMetrics()
    telegram = _telegram_application(service, settings)
    wecom = _wecom_channel(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await anyio.to_thread.run_sync(lambda: FeedbackStore(database_for(settings, "feedback")))
        retention = int(getattr(settings, "log_retention_days", 0) or 0)
        await anyio.to_thread.run_sync(store.prune, retention)
        app.state.feedback_store = store
        if not configured_api_keys(settings):
            log.warning("no API keys configured: /v1/* is open to anyone who can reach this server")
        if app.state.service is None:
            built = await anyio.to_thread.run_sync(_build_service, settings)
            app.state.service = built
            # index build / warm-up may take a while: /healthz answers meanwhile, /readyz says 503
            app.state.warming = True
            threading.Thread(target=_prepare, args=(app, built), name="policybot-warmup", daemon=True).start()
        if app.state.telegram is not None:
            await _start_telegram(app, settings, app.state.service)
        claims = None
        if app.state.wecom is not None:
            from bot.storage.claims import MessageClaims

            claims = await anyio.to_thread.run_sync(lambda: MessageClaims(database_for(settings, "claims")))
            app.state.wecom.attach(app.state.service, store, claims)
            log.info(
                "WeCom callback mode: messages at /wecom/callback (agent %s)", app.state.wecom.config.agent_id
            )
        try:
            yield
        finally:
            if app.state.service is not None:
                app.state.service.stop_following()
            await _stop_telegram(app)
            app.state.feedback_store = None
            store.close()
            if claims is not None:
                claims.close()

    app = FastAPI(
        title="PolicyBot API",
        version="0.1.0",
        description="基于政策原文、带引用的政策问答：每条回答都引用所收录文件的具体条款。",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.metrics = metrics
    app.state.feedback_store = None
    app.state.telegram = telegram[0] if telegram else None
    app.state.telegram_secret = telegram[1] if telegram else ""
    app.state.telegram_running = False
    app.state.wecom = wecom
    app.state.rate_limiter = _rate_limiter(settings)
    install_handlers(app)

    v1 = APIRouter(prefix="/v1", dependencies=[ApiKeyDep])
    for module in (ask, chat, search, documents, feedback):
        v1.include_router(module.router)
    app.include_router(v1)
    app.include_router(health.router)
    if telegram is not None:
        from bot.channels.telegram.webhook import make_webhook_router

        app.include_router(make_webhook_router(*telegram), dependencies=[Depends(_telegram_ready)])
    if wecom is not None:
        from bot.channels.wecom.callback import make_wecom_router

        app.include_router(make_wecom_router(wecom), dependencies=[Depends(_wecom_ready)])

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    origins = list(getattr(settings, "cors_origins", None) or [])
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Admin-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    max_upload = int(getattr(settings, "max_upload_bytes", 0) or documents.DEFAULT_MAX_UPLOAD_BYTES)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_upload_bytes=max_upload,
        templates=lambda: [
            "/",
            *app.openapi().get("paths", {}),
            *(["/telegram/webhook"] if telegram is not None else []),
            *(["/wecom/callback"] if wecom is not None else []),
        ],
    )
    return app
