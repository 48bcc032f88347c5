"""Dependencies: the service, settings, the feedback store, API-key / admin-key checks, rate limit."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from bot.api.errors import ProblemError
from bot.api.metrics import ApiMetrics
from bot.config import Settings
from bot.service import AssistantService
from bot.storage.feedback import FeedbackStore

log = logging.getLogger("policybot.api")


def _secret(value: Any) -> str:
    if value is None:
        return ""
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if callable(getter) else value).strip()


def configured_api_keys(settings: Settings) -> list[str]:
    raw = getattr(settings, "api_keys", None) or []
    if isinstance(raw, str):
        raw = raw.split(",")
    return [k for k in (_secret(v) for v in raw) if k]


def configured_admin_key(settings: Settings) -> str:
    return _secret(getattr(settings, "admin_key", None))


def _presented_keys(request: Request, *headers: str) -> list[str]:
    keys = [request.headers.get(h, "").strip() for h in headers]
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer":
        keys.append(token.strip())
    return [k for k in keys if k]


def _matches(presented: list[str], accepted: list[str]) -> bool:
    ok = False
    for candidate in presented:
        for key in accepted:
            # evaluate every comparison (constant time, no early exit on the first match)
            ok |= hmac.compare_digest(candidate.encode(), key.encode())
    return ok


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_service(request: Request) -> AssistantService:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise ProblemError(
            503, "服务正在启动，请稍后再试。", title="Service starting", headers={"Retry-After": "5"}
        )
    return service


def get_feedback_store(request: Request) -> FeedbackStore:
    store = getattr(request.app.state, "feedback_store", None)
    if store is None:
        raise ProblemError(503, "服务正在启动，请稍后再试。", title="Service starting")
    return store


def get_metrics(request: Request) -> ApiMetrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[AssistantService, Depends(get_service)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]


class Limiter(Protocol):
    def hit(self, key: str) -> int | None: ...


class RateLimiter:
    """Fixed-window-per-minute limiter keyed by API key hash or client address (in-process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> int | None:
        """None when allowed, else seconds until the window resets."""
        if self.per_minute <= 0:
            return None
        now = time.time()
        window = int(now // 60)
        with self._lock:
            if len(self._windows) > 10_000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
            start, count = self._windows.get(key, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[key] = (start, count)
        if count > self.per_minute:
            return max(1, int(60 - now % 60))
        return None


def require_api_key(request: Request, settings: SettingsDep) -> None:
    """On /v1/*: when API keys are configured, require `Authorization: Bearer` or `X-API-Key`."""
    keys = configured_api_keys(settings)
    presented = _presented_keys(request, "x-api-key")
    if keys:
        accepted = [*keys, *([configured_admin_key(settings)] if configured_admin_key(settings) else [])]
        if not _matches(presented, accepted):
            raise ProblemError(
                401,
                "缺少或无效的 API 密钥（Authorization: Bearer <key> 或 X-API-Key）。",
                title="Unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )
    limiter: Limiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        ident = presented[0] if (keys and presented) else (request.client.host if request.client else "-")
        bucket = hashlib.sha256(ident.encode()).hexdigest()[:16]
        retry = limiter.hit(bucket)
        if retry is not None:
            raise ProblemError(
                429,
                "请求过于频繁，请稍后再试。",
                title="Too Many Requests",
                headers={"Retry-After": str(retry)},
            )


def require_admin(request: Request, settings: SettingsDep) -> None:
    """Document management: `X-Admin-Key` or `Authorization: Bearer` equal to the admin key."""
    admin = configured_admin_key(settings)
    if not admin:
        raise ProblemError(403, "未配置管理员密钥，文档管理功能已禁用。", title="Forbidden")
    if not _matches(_presented_keys(request, "x-admin-key"), [admin]):
        raise ProblemError(
            403, "需要有效的管理员密钥（X-Admin-Key 或 Authorization: Bearer）。", title="Forbidden"
        )


ApiKeyDep = Depends(require_api_key)
AdminDep = Depends(require_admin)
