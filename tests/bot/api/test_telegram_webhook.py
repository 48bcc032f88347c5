"""Telegram webhook mode served by the API app: create_app builds the PTB Application over the same
service when the bot token and webhook secret are set, registers the webhook (setWebhook with the
secret) in its lifespan and answers updates posted to /telegram/webhook — against a fake Bot API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.channels.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.service import AssistantService
from tests.bot.api.conftest import api_settings
from tests.bot.channels.telegram.conftest import TOKEN, text_update
from tests.bot.channels.telegram.fake_bot_api import FakeBotAPI

SECRET = "webhook-secret_for-tests"
PUBLIC_URL = "https://policybot.example.org/telegram/webhook"
QUESTION = "计划要发挥哪类基础设施的共性支撑作用？"


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotAPI]:
    server = FakeBotAPI().start()
    monkeypatch.setenv("TELEGRAM_BASE_URL", server.base_url)
    yield server
    server.stop()


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_webhook_mode(service: AssistantService, tmp_path: Path, fake_api: FakeBotAPI) -> None:
    settings = api_settings(
        tmp_path,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_webhook_url=PUBLIC_URL,
    )
    app = create_app(service=service, settings=settings)
    assert WEBHOOK_PATH not in app.openapi()["paths"]  # not part of the public API schema
    with TestClient(app) as client:
        # the lifespan initialised the bot, registered commands and the webhook with its secret
        (set_webhook,) = fake_api.calls_to("setWebhook")
        assert set_webhook.params["url"] == PUBLIC_URL
        assert set_webhook.params["secret_token"] == SECRET
        assert fake_api.calls_to("setMyCommands")
        assert app.state.telegram.bot_data["service"] is service

        assert client.post(WEBHOOK_PATH, json=text_update(QUESTION)).status_code == 401
        wrong = client.post(WEBHOOK_PATH, json=text_update(QUESTION), headers={SECRET_HEADER: "nope"})
        assert wrong.status_code == 403
        assert wrong.headers["content-type"].startswith("application/problem+json")

        ok = client.post(
            WEBHOOK_PATH,
            json=text_update(QUESTION, chat_id=4242, user_id=4242),
            headers={SECRET_HEADER: SECRET},
        )
        assert ok.status_code == 200 and ok.json() == {"ok": True}
        wait_for(lambda: any("创新基础设施" in t for t in fake_api.sent_texts()))
        sent = [c for c in fake_api.calls_to("sendMessage") if "创新基础设施" in c.params["text"]]
        assert int(sent[0].params["chat_id"]) == 4242
        assert "淄政办字〔2021〕78号" in sent[0].params["text"]
        # the API itself still works next to the bot
        assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 200
    # only the two rejected posts (no secret / wrong secret) produced no message
    assert len([c for c in fake_api.calls_to("sendMessage") if int(c.params["chat_id"]) == 42]) == 0


def test_no_webhook_without_secret(service: AssistantService, tmp_path: Path, fake_api: FakeBotAPI) -> None:
    app = create_app(service=service, settings=api_settings(tmp_path, telegram_bot_token=TOKEN))
    with TestClient(app) as client:
        assert (
            client.post(WEBHOOK_PATH, json=text_update("你好"), headers={SECRET_HEADER: SECRET}).status_code
            == 404
        )
    assert app.state.telegram is None
    assert fake_api.calls == []


def test_webhook_unavailable_when_bot_api_unreachable(
    service: AssistantService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Bot API that cannot be reached does not take the API down; the webhook answers 503 so that
    Telegram retries later."""
    from tests.conftest import free_port

    monkeypatch.setenv("TELEGRAM_BASE_URL", f"http://127.0.0.1:{free_port()}")
    settings = api_settings(tmp_path, telegram_bot_token=TOKEN, telegram_webhook_secret=SECRET)
    with TestClient(create_app(service=service, settings=settings)) as client:
        response = client.post(WEBHOOK_PATH, json=text_update("你好"), headers={SECRET_HEADER: SECRET})
        assert response.status_code == 503
        assert client.get("/healthz").status_code == 200
