"""POST /telegram/webhook: secret-token check and queueing, via FastAPI's TestClient."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from telegram import Update

from bot.channels.telegram.builder import build_application
from bot.channels.telegram.webhook import SECRET_HEADER, make_webhook_router
from tests.bot.channels.telegram.conftest import TgSettings, text_update
from tests.bot.channels.telegram.test_bot import FakeService

SECRET = "s3cret-token_value"


@pytest.fixture
def setup(tmp_path: Path):
    application = build_application(FakeService("x"), TgSettings(tmp_path, "http://127.0.0.1:9"))
    app = FastAPI()
    app.include_router(make_webhook_router(application, SECRET))
    return application, TestClient(app)


def test_right_secret_queues_update(setup) -> None:
    application, client = setup
    data = text_update("你好")
    response = client.post("/telegram/webhook", json=data, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    queued = application.update_queue.get_nowait()
    assert isinstance(queued, Update)
    assert queued.update_id == data["update_id"]
    assert queued.effective_message.text == "你好"


def test_wrong_secret_is_forbidden(setup) -> None:
    application, client = setup
    response = client.post("/telegram/webhook", json=text_update("你好"), headers={SECRET_HEADER: "nope"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 403
    assert application.update_queue.empty()


def test_missing_secret_is_unauthorised(setup) -> None:
    application, client = setup
    response = client.post("/telegram/webhook", json=text_update("你好"))
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"
    assert application.update_queue.empty()


def test_bad_body(setup) -> None:
    _, client = setup
    response = client.post(
        "/telegram/webhook",
        content=b"not json",
        headers={SECRET_HEADER: SECRET, "content-type": "application/json"},
    )
    assert response.status_code == 400


def test_empty_secret_rejected(tmp_path: Path) -> None:
    application = build_application(FakeService("x"), TgSettings(tmp_path, ""))
    with pytest.raises(ValueError):
        make_webhook_router(application, "")
