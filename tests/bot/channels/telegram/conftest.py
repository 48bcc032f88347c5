"""Fixtures for the Telegram tests: a fake Bot API server, the real service over the real corpus,
and helpers that feed updates to the real PTB Application."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram.builder import build_application
from bot.config import Settings
from bot.service import AssistantService
from tests.bot.channels.telegram.fake_bot_api import BOT_USER, FakeBotAPI
from tests.conftest import CORPUS_DIR

TOKEN = "123456:TEST-TOKEN"
_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


@pytest.fixture(scope="session")
def fake_api() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI().start()
    yield server
    server.stop()


@pytest.fixture
def api(fake_api: FakeBotAPI) -> FakeBotAPI:
    fake_api.clear()
    fake_api.updates.clear()
    return fake_api


@pytest.fixture(scope="session")
def real_service(built_library: Any, tmp_path_factory: pytest.TempPathFactory) -> AssistantService:
    data_dir = tmp_path_factory.mktemp("telegram-service")
    settings = Settings(data_dir=data_dir, corpus_dir=CORPUS_DIR, local_model_path=data_dir / "absent.gguf")
    return AssistantService.from_settings(settings, library=built_library)


class TgSettings:
    """Stands in for Settings with the telegram_* fields the lead will add."""

    def __init__(self, data_dir: Path, base_url: str, **extra: Any) -> None:
        self.data_dir = data_dir
        self.telegram_bot_token = TOKEN
        self.telegram_base_url = base_url
        for key, value in extra.items():
            setattr(self, key, value)


def make_settings(tmp_path: Path, api: FakeBotAPI, **extra: Any) -> TgSettings:
    return TgSettings(tmp_path, api.base_url, **extra)


def user(user_id: int = 42, name: str = "张三") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name}


def chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    data: dict[str, Any] = {"id": chat_id, "type": kind}
    if kind == "private":
        data["first_name"] = "张三"
    else:
        data["title"] = "政策讨论群"
    return data


def message(
    text: str | None = None,
    *,
    chat_id: int = 42,
    kind: str = "private",
    user_id: int = 42,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id, kind),
        "from": user(user_id),
    }
    if text is not None:
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        mention = f"@{BOT_USER['username']}"
        if mention in text:
            offset = len(text[: text.index(mention)].encode("utf-16-le")) // 2
            msg.setdefault("entities", []).append(
                {"type": "mention", "offset": offset, "length": len(mention)}
            )
    msg.update(extra or {})
    return msg


def update(key: str = "message", **payload: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), key: payload["body"]}


def text_update(text: str, **kwargs: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), "message": message(text, **kwargs)}


def callback_update(data: str, *, chat_id: int = 42, user_id: int = 42) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cb{next(_update_ids)}",
            "from": user(user_id),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": next(_message_ids),
                "date": int(time.time()),
                "chat": chat(chat_id),
                "from": BOT_USER,
                "text": "answer",
            },
        },
    }


def feed(service: Any, settings: Any, updates: list[dict[str, Any]], *, with_post_init: bool = False) -> Any:
    """Build the real Application and process each update (outgoing calls hit the fake server)."""

    async def main() -> Any:
        application = build_application(service, settings)
        async with application:
            if with_post_init:
                await application.post_init(application)
            for data in updates:
                await application.process_update(Update.de_json(data, application.bot))
        return application

    return asyncio.run(main())
