"""The real PTB Application against the fake Bot API server."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

from bot.answer import Answer, Citation
from bot.channels.telegram import handlers, rendering
from bot.channels.telegram.builder import COMMANDS
from tests.bot.channels.telegram.conftest import (
    callback_update,
    feed,
    make_settings,
    message,
    text_update,
)
from tests.bot.channels.telegram.fake_bot_api import FakeBotAPI

QUESTION = "淄博新基建计划的基本原则有哪些？"
TAG = re.compile(r"</?([a-z]+)>")


def balanced(html_text: str) -> bool:
    stack: list[str] = []
    for match in TAG.finditer(html_text):
        name = match.group(1)
        if match.group(0).startswith("</"):
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def buttons(call: Any) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


class FakeService:
    """Implements the part of AssistantService the bot uses."""

    modes = ("extractive",)
    default_mode = "extractive"
    generators: ClassVar[dict[str, Any]] = {}

    def __init__(self, answer_text: str = "", fail: bool = False) -> None:
        self.answer_text = answer_text
        self.fail = fail
        self.asked: list[tuple[str, str | None]] = []
        self.modes_used: list[str | None] = []

    class library:
        @staticmethod
        def documents() -> list[dict[str, Any]]:
            return []

    def ask(self, question: str, session_id: str | None = None, mode: str | None = None) -> Answer:
        self.asked.append((question, session_id))
        self.modes_used.append(mode)
        if self.fail:
            raise RuntimeError("boom")
        return Answer(
            answer_id="fake1",
            answer=self.answer_text,
            citations=[
                Citation(
                    n=1,
                    doc_id="d",
                    title="<测试>文件",
                    section_path="一、总则",
                    quote="原文<b>",
                    start=0,
                    end=3,
                )
            ],
        )

    def last_answer(self, session_id: str) -> None:
        return None

    def reset(self, session_id: str) -> None:
        pass


def test_private_question_answered_with_sources_and_buttons(
    api: FakeBotAPI, real_service, tmp_path: Path
) -> None:
    app = feed(real_service, make_settings(tmp_path, api), [text_update(QUESTION)])
    assert api.methods()[0] == "getMe"
    assert "sendChatAction" in api.methods()
    assert api.calls_to("sendChatAction")[0].params["action"] == "typing"
    sent = api.calls_to("sendMessage")
    assert len(sent) == 1
    call = sent[0]
    assert call.params["chat_id"] == "42"
    assert call.params["parse_mode"] == "HTML"
    text = call.params["text"]
    assert "[1]" in text
    assert "<b>来源</b>" in text
    assert "淄博市新型基础设施建设三年行动计划" in text
    assert "淄政办字〔2021〕78号" in text
    labels = [label for label, _ in buttons(call)]
    assert "原文 1" in labels and "👍" in labels and "👎" in labels
    answer_id = dict(buttons(call))["原文 1"].split(":")[1]
    assert answer_id in app.bot_data["answers"]
    assert real_service.last_answer("tg:42").answer_id == answer_id


def test_group_without_mention_is_ignored(api: FakeBotAPI, real_service, tmp_path: Path) -> None:
    feed(
        real_service, make_settings(tmp_path, api), [text_update(QUESTION, chat_id=-1001, kind="supergroup")]
    )
    assert api.calls_to("sendMessage") == []
    assert api.calls_to("sendChatAction") == []


def test_group_with_mention_is_answered(api: FakeBotAPI, real_service, tmp_path: Path) -> None:
    fake = FakeService("回答[1]")
    feed(
        fake,
        make_settings(tmp_path, api),
        [text_update(f"@policy_test_bot {QUESTION}", chat_id=-1002, kind="supergroup")],
    )
    assert fake.asked == [(QUESTION, "tg:-1002")]
    sent = api.calls_to("sendMessage")
    assert len(sent) == 1
    assert sent[0].params["chat_id"] == "-1002"
    assert "reply_parameters" in sent[0].params or "reply_to_message_id" in sent[0].params


def test_group_mention_real_service(api: FakeBotAPI, real_service, tmp_path: Path) -> None:
    feed(
        real_service,
        make_settings(tmp_path, api),
        [text_update(f"@policy_test_bot {QUESTION}", chat_id=-1003, kind="supergroup")],
    )
    sent = api.calls_to("sendMessage")
    assert len(sent) == 1 and "<b>来源</b>" in sent[0].params["text"]


def test_group_reply_to_bot_is_answered(api: FakeBotAPI, tmp_path: Path) -> None:
    fake = FakeService("回答[1]")
    reply = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": -1004, "type": "supergroup", "title": "g"},
        "from": {"id": 999000111, "is_bot": True, "first_name": "bot"},
        "text": "之前的回答",
    }
    upd = {
        "update_id": 777001,
        "message": message(
            "那执行期呢？", chat_id=-1004, kind="supergroup", extra={"reply_to_message": reply}
        ),
    }
    feed(fake, make_settings(tmp_path, api), [upd])
    assert fake.asked == [("那执行期呢？", "tg:-1004")]


def test_start_lists_examples_and_set_my_commands(api: FakeBotAPI, real_service, tmp_path: Path) -> None:
    feed(real_service, make_settings(tmp_path, api), [text_update("/start")], with_post_init=True)
    commands = api.calls_to("setMyCommands")
    assert len(commands) == 1
    registered = {c["command"]: c["description"] for c in commands[0].params["commands"]}
    assert set(registered) == {name for name, _ in COMMANDS}
    assert all(re.search(r"[\u4e00-\u9fff]", d) for d in registered.values())
    assert "mode" not in registered  # only one answer mode configured
    sent = api.calls_to("sendMessage")
    assert len(sent) == 1
    text = sent[0].params["text"]
    examples = rendering.example_questions(real_service.library.documents())
    assert len(examples) == 3  # made from the library's own documents, one per document first
    for question in examples:
        assert question in text
    assert "淄博市新型基础设施建设三年行动计划" in text
    assert [label for label, _ in buttons(sent[0])] == list(examples)


def test_source_callback_shows_quote_and_feedback_is_stored(
    api: FakeBotAPI, real_service, tmp_path: Path
) -> None:
    first = feed(real_service, make_settings(tmp_path, api), [text_update(QUESTION, chat_id=43, user_id=43)])
    del first
    answer = real_service.last_answer("tg:43")
    assert answer is not None and answer.citations
    citation = answer.citations[0]
    api.clear()
    # a fresh Application (restart): the answer is found through service.last_answer
    feed(
        real_service,
        make_settings(tmp_path, api),
        [
            callback_update(f"src:{answer.answer_id}:{citation.n}", chat_id=43, user_id=43),
            callback_update(f"fb:{answer.answer_id}:up", chat_id=43, user_id=43),
            callback_update(f"fb:{answer.answer_id}:up", chat_id=43, user_id=43),
        ],
    )
    acks = api.calls_to("answerCallbackQuery")
    assert len(acks) == 3
    quote = api.calls_to("sendMessage")
    assert len(quote) == 1
    assert "<blockquote>" in quote[0].params["text"]
    assert citation.quote[:20] in quote[0].params["text"].replace("&quot;", '"')
    assert "感谢反馈" in acks[1].params["text"]
    assert "已经评价过" in acks[2].params["text"]
    rows = (
        sqlite3.connect(tmp_path / "feedback.sqlite3")
        .execute("SELECT answer_id, rating, source FROM feedback")
        .fetchall()
    )
    assert rows == [(answer.answer_id, "up", "telegram:43:43")]


def test_answers_are_logged_and_thumbs_down_is_stored_for_that_answer(
    api: FakeBotAPI, real_service, tmp_path: Path
) -> None:
    """Every answer sent goes to the answer log the API also writes, so `eval export-feedback` can turn
    a Telegram 👎 into a draft item; the 👎 button writes feedback for that answer_id."""
    feed(real_service, make_settings(tmp_path, api), [text_update(QUESTION, chat_id=45, user_id=46)])
    (sent,) = api.calls_to("sendMessage")
    down = dict(buttons(sent))["👎"]
    answer_id = down.split(":")[1]
    assert down == f"fb:{answer_id}:down"
    db = sqlite3.connect(tmp_path / "feedback.sqlite3")
    logged = db.execute("SELECT answer_id, question, answer_json FROM answers").fetchall()
    assert [(a, q) for a, q, _ in logged] == [(answer_id, QUESTION)]
    assert Answer.model_validate_json(logged[0][2]).citations
    api.clear()
    # a fresh Application (restart), as a user may press 👎 much later
    feed(real_service, make_settings(tmp_path, api), [callback_update(down, chat_id=45, user_id=46)])
    assert "感谢反馈" in api.calls_to("answerCallbackQuery")[0].params["text"]
    rows = db.execute("SELECT answer_id, rating, comment, source FROM feedback").fetchall()
    assert rows == [(answer_id, "down", "", "telegram:45:46")]
    db.close()


def test_answers_are_not_logged_when_log_answers_is_off(api: FakeBotAPI, tmp_path: Path) -> None:
    feed(FakeService("x"), make_settings(tmp_path, api, log_answers=False), [text_update(QUESTION)])
    assert len(api.calls_to("sendMessage")) == 1
    db = sqlite3.connect(tmp_path / "feedback.sqlite3")
    assert db.execute("SELECT count(*) FROM answers").fetchone() == (0,)
    db.close()


def test_an_answer_log_failure_does_not_break_answering(
    api: FakeBotAPI, tmp_path: Path, caplog, monkeypatch
) -> None:
    from bot.storage.feedback import FeedbackStore

    def broken(self: FeedbackStore, answer: Answer) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(FeedbackStore, "log_answer", broken)
    feed(FakeService("回答"), make_settings(tmp_path, api), [text_update(QUESTION)])
    texts = api.sent_texts()
    assert len(texts) == 1 and "回答" in texts[0] and handlers.APOLOGY not in texts
    assert "could not log answer fake1" in caplog.text


def test_expired_source_callback(api: FakeBotAPI, tmp_path: Path) -> None:
    feed(FakeService(), make_settings(tmp_path, api), [callback_update("src:nope:1")])
    ack = api.calls_to("answerCallbackQuery")[0]
    assert ack.params["text"] == handlers.EXPIRED
    assert api.calls_to("sendMessage") == []


def test_sticker_and_edited_message_get_text_only_reply(api: FakeBotAPI, tmp_path: Path) -> None:
    fake = FakeService("x")
    sticker = {
        "file_id": "s1",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    photo = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]
    edited = message(QUESTION)
    feed(
        fake,
        make_settings(tmp_path, api),
        [
            {"update_id": 880001, "message": message(extra={"sticker": sticker})},
            {"update_id": 880002, "message": message(extra={"photo": photo})},
            {"update_id": 880003, "edited_message": {**edited, "edit_date": edited["date"] + 1}},
        ],
    )
    assert api.sent_texts() == [handlers.TEXT_ONLY, handlers.TEXT_ONLY, handlers.EDITED]
    assert fake.asked == []


def test_too_long_question(api: FakeBotAPI, tmp_path: Path) -> None:
    fake = FakeService("x")
    feed(fake, make_settings(tmp_path, api), [text_update("问" * 2500)])
    assert fake.asked == []
    assert api.sent_texts() == [handlers.TOO_LONG.format(n=2500, limit=2000)]


def test_unauthorised_user_gets_exactly_one_refusal(api: FakeBotAPI, tmp_path: Path) -> None:
    fake = FakeService("x")
    settings = make_settings(tmp_path, api, telegram_allowed_user_ids="1,2")
    feed(
        fake,
        settings,
        [
            text_update(QUESTION, chat_id=77, user_id=77),
            text_update("/start", chat_id=77, user_id=77),
            text_update(QUESTION, chat_id=77, user_id=77),
        ],
    )
    assert api.sent_texts() == [handlers.REFUSAL]
    assert fake.asked == []
    api.clear()
    feed(fake, settings, [text_update(QUESTION, chat_id=1, user_id=1)])
    assert fake.asked == [(QUESTION, "tg:1")]


def test_rate_limit(api: FakeBotAPI, tmp_path: Path) -> None:
    fake = FakeService("回答")
    settings = make_settings(tmp_path, api, telegram_rate_limit_per_minute=2)
    feed(fake, settings, [text_update(QUESTION, chat_id=5, user_id=5) for _ in range(3)])
    assert len(fake.asked) == 2
    assert api.sent_texts()[-1] == handlers.RATE_LIMITED.format(limit=2)


def test_long_answer_is_split_with_balanced_tags(api: FakeBotAPI, tmp_path: Path) -> None:
    paragraphs = [f"第{i}段：" + "新型基础设施建设<协同>&发展。" * 40 for i in range(20)]
    fake = FakeService("\n\n".join(paragraphs) + "\n" + "长" * 5000)
    feed(fake, make_settings(tmp_path, api), [text_update(QUESTION)])
    sent = api.calls_to("sendMessage")
    assert len(sent) >= 3
    for call in sent:
        text = call.params["text"]
        assert rendering.tg_len(text) <= 4096
        assert balanced(text), text[:200]
        assert ("<协同>" not in text and "&lt;协同&gt;" in text) or "长" in text
    assert [bool(call.params.get("reply_markup")) for call in sent] == [False] * (len(sent) - 1) + [True]
    assert "&lt;测试&gt;文件" in sent[-1].params["text"]
    joined = "".join(call.params["text"] for call in sent)
    assert joined.count("第19段") == 1 and joined.count("长") == 5000


def test_exception_gives_apology_and_bot_keeps_running(api: FakeBotAPI, tmp_path: Path, caplog) -> None:
    fake = FakeService(fail=True)
    upd = text_update(QUESTION)
    feed(fake, make_settings(tmp_path, api), [upd, text_update("/help")])
    texts = api.sent_texts()
    assert texts[0] == handlers.APOLOGY
    assert "使用说明" in texts[1]
    assert f"error while handling update {upd['update_id']}" in caplog.text


def test_docs_and_sources(api: FakeBotAPI, real_service, tmp_path: Path) -> None:
    feed(
        real_service,
        make_settings(tmp_path, api),
        [
            text_update("/docs", chat_id=44, user_id=44),
            text_update(f"/ask {QUESTION}", chat_id=44, user_id=44),
            text_update("/sources", chat_id=44, user_id=44),
        ],
    )
    docs, _answer, sources = api.sent_texts()
    assert "淄政办字〔2021〕78号" in docs and "鲁政字〔2020〕228号" in docs
    assert "部分收录" in docs and "已结束" in docs
    assert sources.count("<blockquote>") == len(real_service.last_answer("tg:44").citations)


def test_run_with_polling_against_fake_server(api: FakeBotAPI, tmp_path: Path) -> None:
    """Real getUpdates polling: the queued update is fetched once and answered."""
    import asyncio

    from bot.channels.telegram.builder import build_application

    fake = FakeService("轮询回答")
    api.updates.append(text_update(QUESTION, chat_id=9, user_id=9))

    async def main() -> None:
        application = build_application(fake, make_settings(tmp_path, api))
        async with application:
            await application.post_init(application)
            await application.start()
            await application.updater.start_polling(poll_interval=0.05, timeout=0)
            for _ in range(200):
                if api.calls_to("sendMessage"):
                    break
                await asyncio.sleep(0.05)
            await application.updater.stop()
            await application.stop()

    asyncio.run(main())
    methods = api.methods()
    assert "deleteWebhook" in methods and "getUpdates" in methods and "setMyCommands" in methods
    assert fake.asked == [(QUESTION, "tg:9")]
    assert "轮询回答" in api.sent_texts()[0]


def test_mode_command_admin_only(api: FakeBotAPI, tmp_path: Path) -> None:
    fake = FakeService("x")
    fake.modes = ("extractive", "openai")
    settings = make_settings(tmp_path, api, telegram_admin_user_ids=[7])
    app = feed(
        fake,
        settings,
        [
            text_update("/mode openai", chat_id=8, user_id=8),
            text_update("/mode openai", chat_id=7, user_id=7),
            text_update(QUESTION, chat_id=7, user_id=7),
        ],
        with_post_init=True,
    )
    texts = api.sent_texts()
    assert texts[0] == "仅管理员可以切换回答模式。"
    assert texts[1] == "已切换为 openai 模式。"
    assert "mode" in {c["command"] for c in api.calls_to("setMyCommands")[0].params["commands"]}
    assert app.chat_data[7]["mode"] == "openai"
    assert fake.modes_used == ["openai"]


def test_feedback_command_stored(api: FakeBotAPI, tmp_path: Path) -> None:
    feed(
        FakeService("x"),
        make_settings(tmp_path, api),
        [text_update("/feedback 回答很有用 <谢谢>", chat_id=11, user_id=11)],
    )
    rows = (
        sqlite3.connect(tmp_path / "feedback.sqlite3")
        .execute("SELECT answer_id, rating, comment FROM feedback")
        .fetchall()
    )
    assert rows == [("", "comment", "回答很有用 <谢谢>")]
    assert api.sent_texts() == ["感谢您的反馈，我们会认真参考！"]
