"""FastAPI webhook route: POST /telegram/webhook, authenticated by the secret token that Telegram
sends in `X-Telegram-Bot-Api-Secret-Token` (set with setWebhook(secret_token=...))."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def make_webhook_router(application: Application, secret_token: str) -> APIRouter:
    """The mounting app must run the application: `await application.initialize()`,
    `await bot.channels.telegram.builder.post_init(application)`, `await application.start()` on startup, and
    `await application.stop()`, `await application.shutdown()`, `await application.post_shutdown(application)`
    on shutdown (see `start`/`stop`)."""
    if not secret_token:
        raise ValueError("a webhook secret token is required (settings.telegram_webhook_secret)")
    expected = secret_token.encode()
    router = APIRouter(tags=["telegram"])

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Any:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return _problem(401, "Unauthorized", f"missing {SECRET_HEADER} header")
        if not hmac.compare_digest(given.encode(), expected):
            return _problem(403, "Forbidden", f"wrong {SECRET_HEADER} header")
        try:
            data = await request.json()
        except ValueError:
            return _problem(400, "Bad Request", "body is not JSON")
        if not isinstance(data, dict):
            return _problem(400, "Bad Request", "body is not a Telegram Update object")
        update = Update.de_json(data, application.bot)
        await application.update_queue.put(update)
        return {"ok": True}

    return router


async def start(application: Application, webhook_url: str | None = None, secret_token: str = "") -> None:
    """Start a webhook-driven application inside an already running event loop (FastAPI lifespan)."""
    from bot.channels.telegram.builder import post_init

    await application.initialize()
    await post_init(application)
    if webhook_url:
        await application.bot.set_webhook(
            webhook_url, secret_token=secret_token or None, allowed_updates=Update.ALL_TYPES
        )
    await application.start()


async def stop(application: Application) -> None:
    await application.stop()
    await application.shutdown()
    if application.post_shutdown is not None:  # closes the feedback store (see builder.post_shutdown)
        await application.post_shutdown(application)
