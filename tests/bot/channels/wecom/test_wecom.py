"""The WeCom channel end to end: the real API app (uvicorn) with its /wecom/callback route, the real service
over the real corpus, and a fake WeCom server on 127.0.0.1 for gettoken and message/send."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.answer import REFUSAL_SENTENCE
from bot.api.app import create_app
from bot.channels.conversation import REFUSAL
from bot.channels.wecom.callback import CALLBACK_PATH
from bot.storage.feedback import FeedbackStore
from evals.bench.server import free_port
from tests.bot.api.conftest import api_settings
from tests.bot.api.live import live_server
from tests.bot.channels.support import CITED, UNANSWERABLE, FakeService, serve, wait_for
from tests.bot.channels.wecom.fake_wecom import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    Failure,
    FakeWeCom,
    callback,
    image_message,
    text_message,
    verification,
)


@pytest.fixture
def fake_wecom() -> Iterator[FakeWeCom]:
    with serve(FakeWeCom()) as fake:
        yield fake


@contextmanager
def wecom_app(service: Any, data_dir: Path, fake: FakeWeCom, **overrides: Any) -> Iterator[tuple[str, Any]]:
    settings = api_settings(
        data_dir,
        wecom_corp_id=CORP_ID,
        wecom_agent_id=AGENT_ID,
        wecom_secret=SECRET,
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_base_url=fake.base_url,
        **overrides,
    )
    app = create_app(service=service, settings=settings)
    app.state.wecom.api.backoff = 0.01  # keep the retries' backoff short in tests
    with live_server(app, free_port()) as base_url:
        yield base_url, app


def post(base_url: str, plain_xml: str, **kwargs: Any) -> httpx.Response:
    params, body = callback(plain_xml, **kwargs)
    return httpx.post(f"{base_url}{CALLBACK_PATH}", params=params, content=body, timeout=10)


def test_url_verification(service: Any, tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    with wecom_app(service, tmp_path, fake_wecom) as (base_url, app):
        url = f"{base_url}{CALLBACK_PATH}"
        good = httpx.get(url, params=verification("1616140317555161061"))
        assert good.status_code == 200 and good.text == "1616140317555161061"
        bad = verification("1616140317555161061", token="not-the-token")
        assert httpx.get(url, params=bad).status_code == 403
        assert httpx.get(url, params={"echostr": "x"}).status_code == 401
        assert CALLBACK_PATH not in app.openapi()["paths"]


def test_cited_answer_end_to_end(service: Any, tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    public = "https://policy.example.gov.cn"
    with wecom_app(service, tmp_path, fake_wecom, public_url=public) as (base_url, _):
        started = time.monotonic()
        response = post(base_url, text_message(CITED, user="zhangsan", msg_id=101))
        acknowledged = time.monotonic() - started
        assert response.status_code == 200 and response.text == ""
        assert acknowledged < 5.0
        wait_for(lambda: len(fake_wecom.sent) == 1)
    (message,) = fake_wecom.sent
    assert message["touser"] == "zhangsan" and message["msgtype"] == "markdown"
    content = message["markdown"]["content"]
    assert "[1]" in content and "**来源**" in content
    assert (
        "**《淄博市新型基础设施建设三年行动计划(2021-2023年)》**" in content
        and "淄政办字〔2021〕78号" in content
    )
    answer = service.last_answer("wecom:zhangsan")
    assert answer is not None and not answer.refused and answer.citations
    first = answer.citations[0]
    assert (
        f"[查看原文]({public}/#cite={first.doc_id}:{first.start}-{first.end})" in content
    )  # the page's view
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    try:
        logged = store.answer(answer.answer_id)
    finally:
        store.close()
    assert logged is not None and logged["question"] == CITED


def test_refused_answer_has_no_sources(service: Any, tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    with wecom_app(service, tmp_path, fake_wecom) as (base_url, _):
        assert post(base_url, text_message(UNANSWERABLE, msg_id=102)).status_code == 200
        wait_for(lambda: len(fake_wecom.sent) == 1)
    (text,) = fake_wecom.texts()
    assert REFUSAL_SENTENCE in text and "来源" not in text


def test_wrong_signature_answers_nothing(tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    fake_service = FakeService("不应出现")
    with wecom_app(fake_service, tmp_path, fake_wecom) as (base_url, _):
        response = post(base_url, text_message(CITED, msg_id=103), token="forged-token")
        assert response.status_code == 403
        params, body = callback(text_message(CITED, msg_id=104))
        unsigned = httpx.post(f"{base_url}{CALLBACK_PATH}", content=body)
        assert unsigned.status_code == 401
        params["msg_signature"] = "0" * 40
        assert httpx.post(f"{base_url}{CALLBACK_PATH}", params=params, content=body).status_code == 403
        assert httpx.post(f"{base_url}{CALLBACK_PATH}", params=params, content=b"<not xml").status_code == 400
        time.sleep(0.5)
    assert fake_service.asked == [] and fake_wecom.attempts == 0 and fake_wecom.token_requests == 0


def test_retried_msg_id_is_answered_once(tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    fake_service = FakeService("回答。")
    with (
        wecom_app(fake_service, tmp_path, fake_wecom) as (base_url, _),
        wecom_app(fake_service, tmp_path, fake_wecom) as (other_worker, _),  # same data dir: `--workers 2`
    ):
        xml = text_message(CITED, msg_id=105)
        for url in (base_url, base_url, other_worker):  # WeCom retries a MsgId it thinks went unanswered
            assert post(url, xml).status_code == 200
        assert post(other_worker, text_message(CITED, msg_id=106)).status_code == 200
        wait_for(lambda: len(fake_wecom.sent) == 2)
        time.sleep(0.5)
    assert len(fake_wecom.sent) == 2 and len(fake_service.asked) == 2


def test_access_token_cached_and_refreshed(tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    fake_service = FakeService("回答。")
    with wecom_app(fake_service, tmp_path, fake_wecom) as (base_url, _):
        post(base_url, text_message("问题一", msg_id=201))
        wait_for(lambda: len(fake_wecom.sent) == 1)
        post(base_url, text_message("问题二", msg_id=202))
        wait_for(lambda: len(fake_wecom.sent) == 2)
        assert fake_wecom.token_requests == 1  # cached between messages
        fake_wecom.expire_token()
        post(base_url, text_message("问题三", msg_id=203))
        wait_for(lambda: len(fake_wecom.sent) == 3)
    assert fake_wecom.token_requests == 2  # 42001 → a new token → the same message sent once
    assert fake_wecom.attempts == 4


def test_api_errors_retried_with_backoff_and_logged(
    tmp_path: Path, fake_wecom: FakeWeCom, caplog: pytest.LogCaptureFixture
) -> None:
    fake_service = FakeService("回答。")
    fake_wecom.fail_next(Failure(status=502), Failure(errcode=-1, errmsg="system busy"))
    with (
        caplog.at_level(logging.WARNING, logger="bot.channels.wecom.api"),
        wecom_app(fake_service, tmp_path, fake_wecom) as (base_url, _),
    ):
        post(base_url, text_message("问题", msg_id=301))
        wait_for(lambda: len(fake_wecom.sent) == 1)
        # a permanent error (user not in the app's visible range) is logged once, not retried
        fake_wecom.fail_next(Failure(errcode=81013, errmsg="user & party & tag all invalid"))
        post(base_url, text_message("问题", msg_id=302))
        wait_for(lambda: any("81013" in r.getMessage() for r in caplog.records))
        time.sleep(0.3)
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and "HTTP error" in retries[0] and "errcode -1" in retries[1]
    assert fake_wecom.attempts == 4 and len(fake_wecom.sent) == 1


def test_user_outside_allowlist_is_refused(service: Any, tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    with wecom_app(service, tmp_path, fake_wecom, wecom_allowed_user_ids=["lisi"]) as (base_url, _):
        post(base_url, text_message(CITED, user="wangwu", msg_id=401))
        wait_for(lambda: len(fake_wecom.sent) == 1)
        post(base_url, text_message(CITED, user="lisi", msg_id=402))
        wait_for(lambda: len(fake_wecom.sent) == 2)
    refusal, answer = fake_wecom.sent
    assert refusal["touser"] == "wangwu" and refusal["markdown"]["content"] == REFUSAL
    assert service.last_answer("wecom:wangwu") is None  # nothing from the corpus reached the outsider
    assert answer["touser"] == "lisi" and "来源" in answer["markdown"]["content"]


def test_long_answer_split_and_text_format(tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    long_text = "".join(f"第{i}项：加快5G网络、数据中心和工业互联网建设。" for i in range(200))
    with wecom_app(FakeService(long_text), tmp_path, fake_wecom, wecom_message_format="text") as (
        base_url,
        _,
    ):
        post(base_url, text_message("问题", msg_id=501))
        wait_for(lambda: len(fake_wecom.sent) >= 2)
        time.sleep(0.5)
    texts = fake_wecom.texts()
    assert len(texts) >= 4 and all(len(t.encode()) <= 2048 for t in texts)
    assert all(m["msgtype"] == "text" for m in fake_wecom.sent)
    assert "".join(texts) == long_text


def test_non_text_feedback_and_commands(service: Any, tmp_path: Path, fake_wecom: FakeWeCom) -> None:
    with wecom_app(service, tmp_path, fake_wecom) as (base_url, _):
        post(base_url, image_message(msg_id=601))
        wait_for(lambda: len(fake_wecom.sent) == 1)
        post(base_url, text_message(CITED, msg_id=602))
        wait_for(lambda: len(fake_wecom.sent) == 2)
        post(base_url, text_message("👎", msg_id=603))
        wait_for(lambda: len(fake_wecom.sent) == 3)
        post(base_url, text_message("/sources", msg_id=604))
        wait_for(lambda: len(fake_wecom.sent) == 4)
    texts = fake_wecom.texts()
    assert "请发送文字问题" in texts[0]
    assert texts[2] == "感谢反馈，我们会改进。"
    assert "上一条回答引用的原文" in texts[3] and "> " in texts[3]
    answer = service.last_answer("wecom:zhangsan")
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    try:
        (row,) = store.feedback(answer.answer_id)
    finally:
        store.close()
    assert row["rating"] == "down" and row["source"] == "wecom:zhangsan:zhangsan"
