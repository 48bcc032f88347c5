"""One DingTalk robot message in, markdown replies out. One-to-one chats: any text is a question; groups: DingTalk
delivers only messages that @-mention the robot. The conversation (`conversationId`) is the session; the sender's
staff id is the user for the allowlist, rate limit and feedback. The frame is acknowledged at once and answered
in a task; replies go to the message's session webhook (retried with backoff), and each msgId is answered once."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, ChatbotMessage, Credential

from bot.channels import rendering
from bot.channels.conversation import (
    ChannelPolicy,
    Incoming,
    Outgoing,
    Send,
    answer_and_send,
    secret_value,
)
from bot.channels.delivery import DEFAULT_BACKOFF, Verdict, deliver
from bot.channels.dingtalk.stream import PolicyStreamClient
from bot.storage.claims import MessageClaims
from bot.storage.feedback import FeedbackStore
from bot.storage.opening import database_for

log = logging.getLogger(__name__)

CHANNEL = "dingtalk"
MAX_MESSAGE_CHARS = 4000  # markdown text per message, kept below DingTalk's limit
TITLE = "政策问答"  # the markdown title DingTalk shows in the chat list and notifications
GROUP_HINT = "请 @我 并写上问题。"
TRANSIENT_ERRORS = frozenset({-1, 130101})  # system busy, sending too fast


@dataclass(frozen=True)
class DingTalkConfig:
    client_id: str
    client_secret: str
    base_url: str = "https://api.dingtalk.com"
    policy: ChannelPolicy = field(default_factory=ChannelPolicy)

    @classmethod
    def from_settings(cls, settings: Any) -> DingTalkConfig:
        client_id = getattr(settings, "dingtalk_client_id", None) or ""
        client_secret = secret_value(getattr(settings, "dingtalk_client_secret", None))
        if not (client_id and client_secret):
            raise ValueError("set POLICYBOT_DINGTALK_CLIENT_ID and POLICYBOT_DINGTALK_CLIENT_SECRET")
        return cls(
            client_id=client_id,
            client_secret=client_secret,
            base_url=getattr(settings, "dingtalk_base_url", None) or cls.base_url,
            policy=ChannelPolicy.from_settings(settings, "dingtalk"),
        )


class DingTalkChannel(CallbackHandler):
    """The SDK's callback handler for the robot topic: acknowledges each frame and answers it in a task."""

    def __init__(
        self, config: DingTalkConfig, service: Any, store: FeedbackStore, claims: MessageClaims
    ) -> None:
        super().__init__()
        self.config = config
        self.conversation = config.policy.conversation(service, store, channel=CHANNEL, group_hint=GROUP_HINT)
        self.markup = rendering.MarkdownMarkup()
        self.backoff = DEFAULT_BACKOFF
        self.http = httpx.Client(timeout=10.0)
        self.claims = claims
        self.tasks: set[asyncio.Task[None]] = set()

    def client(self) -> PolicyStreamClient:
        """A Stream client with this handler registered for robot messages."""
        client = PolicyStreamClient(
            Credential(self.config.client_id, self.config.client_secret), self.config.base_url
        )
        client.register_callback_handler(ChatbotMessage.TOPIC, self)
        return client

    async def process(self, callback: CallbackMessage) -> tuple[int, str]:
        try:
            message = ChatbotMessage.from_dict(callback.data)
        except (AttributeError, KeyError, TypeError, ValueError):
            log.warning("dingtalk: a robot message that could not be read: %s", callback.data)
            return AckMessage.STATUS_BAD_REQUEST, "unreadable message"
        key = str(message.message_id or callback.headers.message_id)
        if not await asyncio.to_thread(self.claims.claim, f"{CHANNEL}:{key}"):
            log.info("dingtalk: message %s delivered again, already answered", key)
            return AckMessage.STATUS_OK, "OK"
        task = asyncio.create_task(self.handle(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return AckMessage.STATUS_OK, "OK"

    async def handle(self, message: ChatbotMessage) -> None:
        """Answers one robot message; never raises."""
        await answer_and_send(
            lambda early: self._reply(message, early),
            lambda outgoing: self.send(message, outgoing),
            f"dingtalk message {message.message_id}",
        )

    async def _reply(self, message: ChatbotMessage, early: Send | None = None) -> Outgoing | None:
        group = str(message.conversation_type) == "2"
        if group and message.is_in_at_list is False:
            return None  # not addressed to the robot
        user_id = str(message.sender_staff_id or message.sender_id or "")
        chat_id = str(message.conversation_id or user_id)
        texts = message.get_text_list() if message.message_type in ("text", "richText") else None
        text = " ".join(t for t in texts if t) if texts else None
        return await self.conversation.reply(Incoming(user_id, chat_id, text, group), early)

    async def send(self, message: ChatbotMessage, reply: Outgoing) -> None:
        webhook = message.session_webhook or ""
        expires_ms = message.session_webhook_expired_time or 0
        if not webhook.startswith(("https://", "http://")):
            log.error("dingtalk: message %s has no session webhook to reply to", message.message_id)
            return
        if expires_ms and expires_ms / 1000 < time.time():
            log.error("dingtalk: the session webhook of message %s has expired", message.message_id)
            return
        at = (
            [message.sender_staff_id]
            if str(message.conversation_type) == "2" and message.sender_staff_id
            else []
        )
        for chunk in rendering.paginate(reply.paragraphs, MAX_MESSAGE_CHARS, self.markup):
            body = {
                "msgtype": "markdown",
                "markdown": {"title": TITLE, "text": chunk},
                "at": {"atUserIds": at},
            }
            await asyncio.to_thread(self._post, webhook, body, message.message_id)
        if reply.answer is not None:
            await self.conversation.answer_log.answered(reply.answer)

    def _post(self, webhook: str, body: dict[str, Any], message_id: str | None) -> None:
        def post() -> None:
            response = self.http.post(webhook, json=body)
            response.raise_for_status()
            result = response.json()
            if result.get("errcode", 0) != 0:
                raise DingTalkError(int(result["errcode"]), str(result.get("errmsg", "")))

        deliver(
            post, what=f"dingtalk reply to {message_id}", classify=classify, log=log, backoff=self.backoff
        )


class DingTalkError(RuntimeError):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode} {errmsg}")
        self.errcode = errcode


def classify(exc: Exception) -> tuple[Verdict, str]:
    if isinstance(exc, DingTalkError):
        return (Verdict.RETRY if exc.errcode in TRANSIENT_ERRORS else Verdict.GIVE_UP), str(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return (Verdict.RETRY if status >= 500 or status == 429 else Verdict.GIVE_UP), f"HTTP {status}"
    if isinstance(exc, httpx.TransportError | ValueError):
        return Verdict.RETRY, f"{type(exc).__name__}: {exc}"
    raise exc


def run_stream(settings: Any) -> None:
    """Entry point for `policybot dingtalk`: build the service and keep the Stream connection until interrupted."""
    from bot.service import AssistantService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = DingTalkConfig.from_settings(settings)
    service = AssistantService.from_settings(settings)
    service.documents.ensure_built()  # first start: build the index, as `serve` does
    service.library.warm_up()
    store = FeedbackStore(database_for(settings, "feedback"))
    store.prune(int(getattr(settings, "log_retention_days", 0) or 0))
    claims = MessageClaims(database_for(settings, "claims"))
    channel = DingTalkChannel(config, service, store, claims)
    log.info("starting the DingTalk Stream client (%s)", config.base_url)
    try:
        asyncio.run(channel.client().start())
    finally:
        channel.http.close()
        claims.close()
        store.close()
