"""The DingTalk channel end to end: dingtalk-stream's client (our subclass) opens a Stream connection at a fake
gateway on 127.0.0.1, receives robot-message frames over a real WebSocket, acknowledges them, and the channel
answers through the real service over the real corpus with markdown posted to the fake session webhook."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.answer import REFUSAL_SENTENCE
from bot.channels.conversation import REFUSAL, UNUSABLE
from bot.channels.dingtalk.channel import DingTalkChannel, DingTalkConfig
from bot.config import Settings
from bot.storage.claims import MessageClaims
from bot.storage.feedback import FeedbackStore
from tests.bot.channels.dingtalk.fake_dingtalk import CLIENT_ID, CLIENT_SECRET, FakeDingTalk
from tests.bot.channels.support import CITED, UNANSWERABLE, FakeService, serve, wait_for


@pytest.fixture
def fake() -> Iterator[FakeDingTalk]:
    with serve(FakeDingTalk()) as server:
        yield server


@contextmanager
def running(service: Any, fake: FakeDingTalk, data_dir: Path, **settings: Any) -> Iterator[DingTalkChannel]:
    """The channel's Stream client on its own event loop in a thread, connected to the fake gateway."""
    config = DingTalkConfig.from_settings(
        Settings(
            dingtalk_client_id=CLIENT_ID,
            dingtalk_client_secret=CLIENT_SECRET,
            dingtalk_base_url=fake.base_url,
            **settings,
        )
    )
    store = FeedbackStore(data_dir / "feedback.sqlite3")
    claims = MessageClaims(data_dir / "channel_messages.sqlite3")
    channel = DingTalkChannel(config, service, store, claims)
    channel.backoff = 0.01
    client = channel.client()
    started = threading.Event()
    loop_box: list[asyncio.AbstractEventLoop] = []
    stop = asyncio.Event()

    async def main() -> None:
        loop_box.append(asyncio.get_running_loop())
        started.set()
        stream = asyncio.create_task(client.start())
        await stop.wait()
        stream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stream
        await asyncio.gather(*channel.tasks, return_exceptions=True)

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="dingtalk-test", daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        assert fake.connected.wait(30), "the client did not connect to the fake gateway"
        yield channel
    finally:
        loop_box[0].call_soon_threadsafe(stop.set)
        thread.join(timeout=15)
        channel.http.close()
        claims.close()
        store.close()


def test_one_to_one_cited_answer(service: Any, fake: FakeDingTalk, tmp_path: Path) -> None:
    with running(service, fake, tmp_path):
        frame = fake.robot_message(CITED, conversation_id="cid-1")
        fake.push(frame)
        wait_for(lambda: len(fake.replies) == 1)
        wait_for(lambda: len(fake.acks) == 1)
    (opened,) = fake.open_requests
    assert opened["subscriptions"] == [{"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"}]
    (ack,) = fake.acks
    assert ack["code"] == 200 and ack["headers"]["messageId"] == frame["headers"]["messageId"]
    (reply,) = fake.replies
    assert reply["msgtype"] == "markdown" and reply["session"] == "cid-1" and reply["at"]["atUserIds"] == []
    text = reply["markdown"]["text"]
    assert "[1]" in text and "**来源**" in text and "淄政办字〔2021〕78号" in text
    answer = service.last_answer("dingtalk:cid-1")
    assert answer is not None and answer.citations and not answer.refused
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    try:
        logged = store.answer(answer.answer_id)  # what `policybot eval export-feedback` reads
    finally:
        store.close()
    assert logged is not None and logged["question"] == CITED


def test_group_mention_answered_and_unaddressed_ignored(fake: FakeDingTalk, tmp_path: Path) -> None:
    fake_service = FakeService("回答[1]。")
    with running(fake_service, fake, tmp_path):
        fake.push(fake.robot_message("群里随便聊聊", group=True, at_robot=False, conversation_id="cid-g"))
        fake.push(fake.robot_message(f" {CITED}", group=True, staff_id="staff9", conversation_id="cid-g"))
        wait_for(lambda: len(fake.replies) == 1)
        time.sleep(0.5)
    assert fake_service.asked == [(CITED, "dingtalk:cid-g")]
    (reply,) = fake.replies
    assert reply["at"]["atUserIds"] == ["staff9"] and "回答[1]" in reply["markdown"]["text"]


def test_refused_answer(service: Any, fake: FakeDingTalk, tmp_path: Path) -> None:
    with running(service, fake, tmp_path):
        fake.push(fake.robot_message(UNANSWERABLE))
        wait_for(lambda: len(fake.replies) == 1)
    (text,) = fake.reply_texts()
    assert REFUSAL_SENTENCE in text and "来源" not in text


def test_allowlist_refuses_outsiders_without_the_corpus(
    service: Any, fake: FakeDingTalk, tmp_path: Path
) -> None:
    with running(service, fake, tmp_path, dingtalk_allowed_user_ids=["staff-ok"]):
        fake.push(fake.robot_message(CITED, staff_id="staff-out", conversation_id="cid-out"))
        wait_for(lambda: len(fake.replies) == 1)
        fake.push(fake.robot_message(CITED, staff_id="staff-out", conversation_id="cid-out"))
        fake.push(fake.robot_message(CITED, staff_id="staff-ok", conversation_id="cid-ok"))
        wait_for(lambda: len(fake.replies) == 2)
        time.sleep(0.5)
    refusal, answer = fake.reply_texts()
    assert refusal == REFUSAL  # once; a second question from the outsider gets silence
    assert service.last_answer("dingtalk:cid-out") is None
    assert "来源" in answer


def test_redelivery_answered_once_and_webhook_errors_retried(
    fake: FakeDingTalk, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake_service = FakeService("回答。")
    fake.reply_failures = [503, 502]
    with (
        caplog.at_level(logging.WARNING, logger="bot.channels.dingtalk.channel"),
        running(fake_service, fake, tmp_path),
    ):
        frame = fake.robot_message("问题", msg_id="same-msg")
        fake.push(frame)
        fake.push(frame)  # DingTalk redelivers a frame it thinks was not acknowledged
        wait_for(lambda: len(fake.replies) == 1)
        wait_for(lambda: len(fake.acks) == 2)
        time.sleep(0.5)
    assert len(fake_service.asked) == 1 and len(fake.replies) == 1 and fake.reply_attempts == 3
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and "HTTP 503" in retries[0]


def test_unusable_text_non_text_and_long_answers(fake: FakeDingTalk, tmp_path: Path) -> None:
    long_text = "".join(f"第{i}项：加快5G网络、数据中心和工业互联网建设。" for i in range(300))
    fake_service = FakeService(long_text)
    with running(fake_service, fake, tmp_path):
        fake.push(fake.robot_message("问题\ud800"))  # a lone surrogate, as JSON can carry it
        wait_for(lambda: len(fake.replies) == 1)
        fake.push(fake.robot_message("", msgtype="picture"))
        wait_for(lambda: len(fake.replies) == 2)
        fake.push(fake.robot_message("长问题"))
        wait_for(lambda: len(fake.replies) >= 4)
        time.sleep(0.5)
    texts = fake.reply_texts()
    assert texts[0] == UNUSABLE and "请发送文字问题" in texts[1]
    assert fake_service.asked == [("长问题", "dingtalk:cid-private-001")]
    assert all(len(t) <= 4000 for t in texts[2:]) and "".join(texts[2:]) == long_text


def test_wrong_credentials_do_not_connect(fake: FakeDingTalk, tmp_path: Path) -> None:
    config = DingTalkConfig(client_id=CLIENT_ID, client_secret="wrong", base_url=fake.base_url)
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    claims = MessageClaims(tmp_path / "channel_messages.sqlite3")
    try:
        client = DingTalkChannel(config, FakeService("x"), store, claims).client()
        assert client.open_connection() is None
    finally:
        claims.close()
        store.close()
    assert fake.tickets == set() and len(fake.open_requests) == 1


def test_unreadable_frame_is_acknowledged_as_bad_request(fake: FakeDingTalk, tmp_path: Path) -> None:
    fake_service = FakeService("回答。")
    with running(fake_service, fake, tmp_path):
        frame = fake.robot_message("问题")
        frame["data"] = json.dumps({"msgtype": "text", "msgId": "broken"})  # no text content
        fake.push(frame)
        wait_for(lambda: len(fake.acks) == 1)
    (ack,) = fake.acks
    assert ack["code"] == 400 and fake.replies == [] and fake_service.asked == []
