"""What every chat channel does the same way, whatever its platform.

- `incoming_text`: the one check of text a user sent (`bot.text_input`'s rule, as for the API).
- `Access`: allowlists of users and chats, admins; `RateLimiter`: questions per user per minute.
- `session_id` / `feedback_source`: how a chat becomes a conversation and a feedback row.
- `AnswerLog`: feedback and the answer log in the shared `FeedbackStore` (what `policybot eval export-feedback`
  reads), never fatal to answering.
- `TextConversation`: the commands of a text-only channel (WeCom, DingTalk: no buttons), returning pieces
  that the channel formats and sends. Telegram keeps its own handlers (commands and buttons are PTB's) but
  uses the same checks, texts and log.

Every answer comes from `AssistantService.ask`; nothing here retrieves or prompts."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.answer import Answer, AnswerEvent
from bot.channels import rendering
from bot.channels.delivery import DeliveryError
from bot.channels.rendering import Paragraph
from bot.service import MAX_QUESTION_CHARS, InvalidQuestion
from bot.storage.feedback import FeedbackStore
from bot.text_input import text_problem

log = logging.getLogger(__name__)

REFUSAL = "抱歉，本助手目前仅向授权用户开放。如需使用，请联系管理员开通权限。"
APOLOGY = "抱歉，处理您的问题时出错了，请稍后再试。"
TEXT_ONLY = "请发送文字问题。目前不支持贴纸、图片、语音、文件等内容。"
TOO_LONG = "问题过长（{n}字），请控制在{limit}字以内，只保留要咨询的核心内容。"
UNUSABLE = "消息中含有无法识别的字符（如控制字符或残缺的表情符号），请删除后重新发送。"
RATE_LIMITED = "提问有点频繁啦，请稍等片刻再试（每分钟最多 {limit} 个问题）。"
ASK_USAGE = "用法：/ask 问题，例如：/ask 这份文件的主要目标是什么？"
FEEDBACK_USAGE = "用法：/feedback 您的意见或建议"
FEEDBACK_THANKS = "感谢您的反馈，我们会认真参考！"
RATING_THANKS = {"up": "感谢反馈！👍", "down": "感谢反馈，我们会改进。"}
NOTHING_TO_RATE = "还没有可以评价的回答：请先提问。"
UNKNOWN_COMMAND = "未知命令，发送 /help 查看可用命令。"
EMPTY_MENTION = "请在 @我 之后写上要咨询的政策问题。"
RESET_DONE = "已清空本对话的上下文，可以开始新的问题。"
MAX_FEEDBACK_CHARS = 4000


class UnusableText(ValueError):
    """Text a channel will not pass on; `str(exc)` is the short Chinese message for the user."""


def incoming_text(text: str | None, *, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """Every channel's user text goes through here once, under the rule the API applies (`bot.text_input`: lone
    UTF-16 surrogates, NUL and other control characters, bidi controls are refused with a short message); the rest
    is stripped and limited to `max_chars`."""
    text = (text or "").strip()
    if text_problem(text) is not None:
        raise UnusableText(UNUSABLE)
    if len(text) > max_chars:
        raise UnusableText(TOO_LONG.format(n=len(text), limit=max_chars))
    return text


def secret_value(value: Any) -> str:
    """The plain string of a setting that may be a pydantic `SecretStr`, a string or unset."""
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if callable(getter) else value or "")


def parse_ids(value: Any, convert: Callable[[str], Hashable] = str) -> frozenset[Any]:
    """`"a, b;c"`, `["a", "b"]`, `5` or None -> frozenset of converted ids."""
    if value is None or value == "":
        return frozenset()
    if isinstance(value, int | str):
        items: Iterable[Any] = str(value).replace(";", ",").replace(" ", ",").split(",")
    else:
        items = value
    return frozenset(convert(str(item).strip()) for item in items if str(item).strip())


@dataclass(frozen=True)
class Access:
    """Open when both allowlists are empty; otherwise an allowed user (anywhere), anyone in an allowed chat,
    or an admin."""

    allowed_users: frozenset[Any] = field(default_factory=frozenset)
    allowed_chats: frozenset[Any] = field(default_factory=frozenset)
    admins: frozenset[Any] = field(default_factory=frozenset)

    @property
    def open(self) -> bool:
        return not self.allowed_users and not self.allowed_chats

    def allows(self, user_id: Hashable | None, chat_id: Hashable | None = None) -> bool:
        if self.open:
            return True
        if user_id is not None and (user_id in self.allowed_users or user_id in self.admins):
            return True
        return chat_id is not None and chat_id in self.allowed_chats

    def is_admin(self, user_id: Hashable | None) -> bool:
        return user_id is not None and user_id in self.admins


class RateLimiter:
    """At most `per_minute` questions per key in any 60 s window (0 or less: no limit)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[Hashable, deque[float]] = {}

    def limited(self, key: Hashable | None) -> bool:
        """Counts one question for `key`; True when it is over the limit (and then it is not counted)."""
        if key is None or self.per_minute <= 0:
            return False
        window = self._windows.setdefault(key, deque())
        now = self._clock()
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return True
        window.append(now)
        return False


def session_id(prefix: str, chat_id: Hashable) -> str:
    """One conversation per chat (a group, or the one-to-one chat with a user)."""
    return f"{prefix}:{chat_id}"


def feedback_source(channel: str, chat_id: Hashable | None, user_id: Hashable | None) -> str:
    return f"{channel}:{'' if chat_id is None else chat_id}:{'' if user_id is None else user_id}"


class AnswerLog:
    """Feedback rows and the answer log in the shared store (the API's table), from worker threads."""

    def __init__(self, store: FeedbackStore, *, log_answers: bool = True) -> None:
        self.store = store
        self.log_answers = log_answers

    async def answered(self, answer: Answer) -> None:
        """Logs an answer that was sent, so a 👎 can become a draft eval item; never fatal."""
        if not self.log_answers:
            return
        try:
            await asyncio.to_thread(self.store.log_answer, answer)
        except Exception:  # the answer log must never break answering
            log.warning("could not log answer %s", answer.answer_id, exc_info=True)

    async def feedback(self, answer_id: str, rating: str, comment: str, source: str) -> None:
        await asyncio.to_thread(
            self.store.add_feedback, answer_id, rating, comment[:MAX_FEEDBACK_CHARS], source
        )


# -- text-only channels ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """One message to the bot. `chat_id` is the conversation (a group, or the one-to-one chat); `text` is None
    for a message without text (a picture, a voice message, a file)."""

    user_id: str
    chat_id: str
    text: str | None
    group: bool = False


@dataclass
class Outgoing:
    """What to send back: pieces for the channel to format, and the answer when there is one."""

    paragraphs: list[Paragraph]
    answer: Answer | None = None


def plain(text: str) -> Outgoing:
    return Outgoing(rendering.text_paragraphs(text))


RATINGS = {"👍": "up", "👎": "down", "/up": "up", "/down": "down"}


class TextConversation:
    """Commands and questions for a channel without buttons: /start /help /ask /sources /docs /reset /mode
    /feedback, 👍 / 👎 (rates the last answer in this chat), and any other text as a question."""

    def __init__(
        self,
        service: Any,
        answer_log: AnswerLog,
        *,
        channel: str,
        access: Access,
        rate: RateLimiter,
        group_hint: str,
        link: rendering.CitationLink | None = None,
    ) -> None:
        self.service = service
        self.link = link
        self.answer_log = answer_log
        self.channel = channel
        self.access = access
        self.rate = rate
        self.group_hint = group_hint
        self.refused: set[str] = set()
        self.modes: dict[str, str] = {}

    def session(self, incoming: Incoming) -> str:
        return session_id(self.channel, incoming.chat_id)

    async def reply(self, incoming: Incoming, early: Send | None = None) -> Outgoing | None:
        """The reply to one message; None when the bot stays silent (an outsider already refused once).

        In a generative mode with `early`, the verbatim extract goes out through `early` the moment it exists,
        and the reply is the model's lead (when it passed verification) with the answer's notices: a channel
        whose messages cannot be edited gets the lead as a second message."""
        if not self.access.allows(incoming.user_id, incoming.chat_id):
            if incoming.user_id in self.refused:
                return None
            self.refused.add(incoming.user_id)
            log.info("%s: refused user %s in chat %s", self.channel, incoming.user_id, incoming.chat_id)
            return plain(REFUSAL)
        if incoming.text is None:
            return plain(TEXT_ONLY)
        try:
            text = incoming_text(incoming.text)
        except UnusableText as exc:
            return plain(str(exc))
        if not text:
            return plain(EMPTY_MENTION if incoming.group else ASK_USAGE)
        if text in RATINGS:
            return await self._rate(incoming, RATINGS[text])
        if not text.startswith("/"):
            return await self.ask(incoming, text, early)
        command, _, rest = text.partition(" ")
        rest = rest.strip()
        command = command.lower()
        if command == "/ask":
            return await self.ask(incoming, rest, early) if rest else plain(ASK_USAGE)
        if command in ("/start", "/help"):
            return await self._help(command)
        if command == "/sources":
            answer = await asyncio.to_thread(self.service.last_answer, self.session(incoming))
            return Outgoing(rendering.sources_paragraphs(answer))
        if command == "/docs":
            documents = await asyncio.to_thread(self.service.library.documents)
            return Outgoing(rendering.documents_paragraphs(documents))
        if command == "/reset":
            await asyncio.to_thread(self.service.reset, self.session(incoming))
            return plain(RESET_DONE)
        if command == "/feedback":
            return await self._comment(incoming, rest)
        if command == "/mode":
            return self._mode(incoming, rest)
        return plain(UNKNOWN_COMMAND)

    async def ask(self, incoming: Incoming, question: str, early: Send | None = None) -> Outgoing:
        if self.rate.limited(incoming.user_id):
            return plain(RATE_LIMITED.format(limit=self.rate.per_minute))
        mode = self.modes.get(incoming.chat_id)
        generative = (mode or self.service.default_mode) in self.service.generators
        extract = None
        if early is not None and generative:
            send_early = early

            async def deliver(preview: Answer) -> bool:
                await send_early(Outgoing(rendering.answer_paragraphs(preview, self.link)))
                return True

            extract = EarlyExtract(deliver)
        try:
            answer: Answer = await asyncio.to_thread(
                self.service.ask,
                question,
                session_id=self.session(incoming),
                mode=mode,
                **({"on_event": extract.on_event} if extract else {}),
            )
        except InvalidQuestion as exc:
            return plain(str(exc))
        if extract is not None and await extract.sent():
            return Outgoing(rendering.lead_paragraphs(answer), answer)
        return Outgoing(rendering.answer_paragraphs(answer, self.link), answer)

    async def _help(self, command: str) -> Outgoing:
        extra = ["👍 / 👎 —— 评价上一条回答"]
        if len(self.service.modes) > 1:
            extra.append("/mode 模式 —— 切换回答模式（管理员）")
        paragraphs = rendering.help_paragraphs(self.group_hint, extra)
        if command == "/start":
            documents = await asyncio.to_thread(self.service.library.documents)
            paragraphs = rendering.start_paragraphs(documents, sources_hint="发送 /sources 可查看引用原文。")
        return Outgoing(paragraphs)

    async def _rate(self, incoming: Incoming, rating: str) -> Outgoing:
        last = await asyncio.to_thread(self.service.last_answer, self.session(incoming))
        if last is None:
            return plain(NOTHING_TO_RATE)
        source = feedback_source(self.channel, incoming.chat_id, incoming.user_id)
        await self.answer_log.feedback(last.answer_id, rating, "", source)
        return plain(RATING_THANKS[rating])

    async def _comment(self, incoming: Incoming, comment: str) -> Outgoing:
        if not comment:
            return plain(FEEDBACK_USAGE)
        last = await asyncio.to_thread(self.service.last_answer, self.session(incoming))
        source = feedback_source(self.channel, incoming.chat_id, incoming.user_id)
        await self.answer_log.feedback(last.answer_id if last else "", "comment", comment, source)
        return plain(FEEDBACK_THANKS)

    def _mode(self, incoming: Incoming, wanted: str) -> Outgoing:
        message, chosen = switch_mode(
            self.service, self.modes.get(incoming.chat_id), self.access.is_admin(incoming.user_id), wanted
        )
        if chosen:
            self.modes[incoming.chat_id] = chosen
        return plain(message)


Send = Callable[[Outgoing], Awaitable[None]]
T = TypeVar("T")


class EarlyExtract(Generic[T]):
    """Delivers the extract from the answering thread's `extract` event, on the channel's event loop:
    `deliver` gets the extract as an Answer (no answer id yet) and returns what the channel needs later (the
    messages it sent, to edit them)."""

    def __init__(self, deliver: Callable[[Answer], Awaitable[T]]) -> None:
        self.deliver = deliver
        self.loop = asyncio.get_running_loop()
        self.sending: concurrent.futures.Future[T] | None = None

    def on_event(self, event: AnswerEvent) -> None:
        if event.kind == "extract" and self.sending is None:
            preview = Answer(answer_id="", answer=event.text, citations=event.citations)
            self.sending = asyncio.run_coroutine_threadsafe(self.deliver(preview), self.loop)

    async def sent(self) -> T | None:
        """What `deliver` returned; None when nothing went out (a failed early send is logged, and the whole
        answer is sent instead)."""
        if self.sending is None:
            return None
        try:
            return await asyncio.wrap_future(self.sending)
        except Exception:
            log.exception("sending the extract early failed; the answer is sent whole")
            return None


async def answer_and_send(reply: Callable[[Send], Awaitable[Outgoing | None]], send: Send, what: str) -> None:
    """Produces the reply to one message and sends it; never raises. A failed delivery is already logged (by
    `deliver`); any other failure is logged and the user gets an apology."""
    try:
        outgoing = await reply(send)  # the reply may send the extract early through `send`
        if outgoing is not None:
            await send(outgoing)
    except DeliveryError:
        return
    except Exception:
        log.exception("answering %s failed", what)
        try:
            await send(plain(APOLOGY))
        except Exception:
            log.exception("could not send the apology for %s", what)


def switch_mode(service: Any, current: str | None, is_admin: bool, wanted: str) -> tuple[str, str | None]:
    """/mode: the message to show and the mode to switch the chat to (None: no change). Admins only."""
    modes: list[str] = list(service.modes)
    if len(modes) <= 1:
        return f"当前只配置了一种回答模式：{modes[0] if modes else 'extractive'}。", None
    if not is_admin:
        return "仅管理员可以切换回答模式。", None
    if not wanted:
        shown = current or service.default_mode
        return f"当前回答模式：{shown}\n可用模式：{'、'.join(modes)}\n用法：/mode 模式", None
    if wanted not in modes:
        return f"未知模式：{wanted}\n可用模式：{'、'.join(modes)}", None
    return f"已切换为 {wanted} 模式。", wanted


@dataclass(frozen=True)
class ChannelPolicy:
    """Who may ask and how often, whether answers are logged, where sources link to; read from a channel's
    `<prefix>_*` settings (`allowed_user_ids`, `allowed_chat_ids`, `admin_user_ids`, `rate_limit_per_minute`),
    `log_answers` and `public_url`."""

    access: Access = field(default_factory=Access)
    rate_limit_per_minute: int = 20
    log_answers: bool = True
    public_url: str = ""  # the web page's address, for links to its citation view

    @classmethod
    def from_settings(cls, settings: Any, prefix: str) -> ChannelPolicy:
        def ids(name: str) -> frozenset[Any]:
            return parse_ids(getattr(settings, f"{prefix}_{name}", None))

        rate = getattr(settings, f"{prefix}_rate_limit_per_minute", None)
        return cls(
            Access(ids("allowed_user_ids"), ids("allowed_chat_ids"), ids("admin_user_ids")),
            int(rate) if rate is not None else 20,
            bool(getattr(settings, "log_answers", True)),
            str(getattr(settings, "public_url", None) or ""),
        )

    def conversation(
        self, service: Any, store: FeedbackStore, *, channel: str, group_hint: str
    ) -> TextConversation:
        return TextConversation(
            service,
            AnswerLog(store, log_answers=self.log_answers),
            channel=channel,
            access=self.access,
            rate=RateLimiter(self.rate_limit_per_minute),
            group_hint=group_hint,
            link=rendering.web_citation_link(self.public_url),
        )
