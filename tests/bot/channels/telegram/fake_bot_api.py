"""A tiny fake Telegram Bot API server (Starlette, served by uvicorn in a background thread).

Routes: POST /bot{token}/{method}. Every call is recorded as `Call(method, params)`; parameters
sent by python-telegram-bot as form fields are JSON-decoded where they hold objects."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_USER = {
    "id": 999000111,
    "is_bot": True,
    "first_name": "Policy Test Bot",
    "username": "policy_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
JSON_FIELDS = {
    "reply_markup",
    "commands",
    "entities",
    "link_preview_options",
    "reply_parameters",
    "allowed_updates",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


class FakeBotAPI:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1000)
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._handle, methods=["POST", "GET"])])

    # -- recording -------------------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def sent_texts(self) -> list[str]:
        return [c.params["text"] for c in self.calls_to("sendMessage")]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- HTTP ------------------------------------------------------------------------------------
    async def _params(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.body()
            return json.loads(body) if body else {}
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, str) and key in JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            params[key] = value
        return params

    def _message(self, params: dict[str, Any], text: str | None = None) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER,
            "text": text if text is not None else params.get("text", ""),
        }

    async def _handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await self._params(request)
        with self._lock:
            self.calls.append(Call(method, params))
        result: Any = True
        if method == "getMe":
            result = BOT_USER
        elif method == "getUpdates":
            with self._lock:
                result, self.updates = self.updates, []
        elif method in ("sendMessage", "editMessageText"):
            result = self._message(params)
        elif method in (
            "setMyCommands",
            "deleteWebhook",
            "setWebhook",
            "sendChatAction",
            "answerCallbackQuery",
        ):
            result = True
        elif method == "getMyCommands":
            result = []
        else:
            return JSONResponse({"ok": False, "error_code": 404, "description": f"Not Found: {method}"}, 404)
        return JSONResponse({"ok": True, "result": result})

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeBotAPI:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Bot API server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
