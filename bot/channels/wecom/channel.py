"""One WeCom message in, one reply out: decrypted XML → `TextConversation` → markdown (or text) messages
sent with the message API, and the answer logged. Messages are 1:1 with the application, so the user is the
conversation. WeCom retries a callback it thinks went unanswered: each MsgId is answered once."""

from __future__ import annotations

import asyncio
import hmac
import logging
from dataclasses import dataclass, field
from typing import Any

from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.parser import parse_message
from wechatpy.utils import WeChatSigner

from bot.channels import rendering
from bot.channels.conversation import (
    ChannelPolicy,
    Incoming,
    Outgoing,
    TextConversation,
    answer_and_send,
    secret_value,
)
from bot.channels.rendering import MarkdownMarkup, Markup, utf8_len
from bot.channels.wecom.api import WeComAPI
from bot.storage.claims import MessageClaims
from bot.storage.feedback import FeedbackStore

log = logging.getLogger(__name__)

CHANNEL = "wecom"
MAX_MESSAGE_BYTES = 2048  # markdown and text content, UTF-8 bytes
GROUP_HINT = "本应用在单聊中使用：在工作台打开应用后直接提问。"


@dataclass(frozen=True)
class WeComConfig:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    base_url: str = "https://qyapi.weixin.qq.com"
    message_format: str = "markdown"
    policy: ChannelPolicy = field(default_factory=ChannelPolicy)

    @classmethod
    def from_settings(cls, settings: Any) -> WeComConfig | None:
        """None when the corp id is unset (the channel is off); ValueError when it is set but incomplete."""
        corp_id = getattr(settings, "wecom_corp_id", None)
        if not corp_id:
            return None
        values = {
            "POLICYBOT_WECOM_AGENT_ID": getattr(settings, "wecom_agent_id", None),
            "POLICYBOT_WECOM_SECRET": secret_value(getattr(settings, "wecom_secret", None)),
            "POLICYBOT_WECOM_TOKEN": secret_value(getattr(settings, "wecom_token", None)),
            "POLICYBOT_WECOM_AES_KEY": secret_value(getattr(settings, "wecom_aes_key", None)),
        }
        missing = [name for name, value in values.items() if value in (None, "")]
        if missing:
            raise ValueError(f"POLICYBOT_WECOM_CORP_ID is set but {', '.join(missing)} is not")
        aes_key = values["POLICYBOT_WECOM_AES_KEY"]
        if len(aes_key) != 43:
            raise ValueError("POLICYBOT_WECOM_AES_KEY must be the 43-character EncodingAESKey")
        return cls(
            corp_id=corp_id,
            agent_id=int(values["POLICYBOT_WECOM_AGENT_ID"]),
            secret=values["POLICYBOT_WECOM_SECRET"],
            token=values["POLICYBOT_WECOM_TOKEN"],
            aes_key=aes_key,
            base_url=getattr(settings, "wecom_base_url", None) or cls.base_url,
            message_format=getattr(settings, "wecom_message_format", None) or "markdown",
            policy=ChannelPolicy.from_settings(settings, "wecom"),
        )


class WeComChannel:
    """Built with the app (crypto, API client); `attach(service, store, claims)` in the app's lifespan makes it
    ready (the service and the stores exist only then)."""

    def __init__(self, config: WeComConfig, *, api: WeComAPI | None = None) -> None:
        self.config = config
        self.crypto = WeChatCrypto(config.token, config.aes_key, config.corp_id)
        self.api = api or WeComAPI(config.base_url, config.corp_id, config.secret, config.agent_id)
        self.markup: Markup = (
            MarkdownMarkup(italics=False, length=utf8_len)
            if config.message_format == "markdown"
            else Markup(utf8_len)
        )
        self.conversation: TextConversation | None = None
        self.claims: MessageClaims | None = None

    @property
    def ready(self) -> bool:
        return self.conversation is not None

    def attach(self, service: Any, store: FeedbackStore, claims: MessageClaims) -> None:
        self.claims = claims
        self.conversation = self.config.policy.conversation(
            service, store, channel=CHANNEL, group_hint=GROUP_HINT
        )

    def first_time(self, message_key: str) -> bool:
        """True the first time any worker sees a message (WeCom retries a callback up to three times)."""
        assert self.claims is not None
        return self.claims.claim(f"{CHANNEL}:{message_key}")

    def signed(self, signature: str, timestamp: str, nonce: str, ciphertext: str) -> bool:
        """WeCom's msg_signature (SHA1 of the sorted token, timestamp, nonce and ciphertext, by wechatpy's signer),
        compared in constant time: wechatpy compares with `!=`, so it is called only after this check."""
        signer = WeChatSigner()
        signer.add_data(self.config.token, timestamp, nonce, ciphertext)
        return hmac.compare_digest(signer.signature.encode(), signature.encode())

    def parse(self, decrypted_xml: str) -> Any:
        return parse_message(decrypted_xml)

    async def handle(self, message: Any) -> None:
        """Answers one parsed message (a wechatpy message object); never raises."""
        assert self.conversation is not None
        user_id = str(message.source)
        text = (message.content or "") if message.type == "text" else None
        await answer_and_send(
            lambda early: self.conversation.reply(Incoming(user_id, user_id, text), early),  # type: ignore[union-attr]
            lambda outgoing: self.send(user_id, outgoing),
            f"wecom message {message.id} from {user_id}",
        )

    async def send(self, user_id: str, reply: Outgoing) -> None:
        assert self.conversation is not None
        chunks = rendering.paginate(reply.paragraphs, MAX_MESSAGE_BYTES, self.markup)
        send = self.api.send_markdown if isinstance(self.markup, MarkdownMarkup) else self.api.send_text
        for chunk in chunks:
            await asyncio.to_thread(send, user_id, chunk)
        if reply.answer is not None:
            await self.conversation.answer_log.answered(reply.answer)
