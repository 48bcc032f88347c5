"""`GET /wecom/callback` (URL verification: the signed, encrypted echostr is decrypted and echoed) and
`POST /wecom/callback` (an encrypted message: checked, decrypted, acknowledged at once with an empty 200 —
WeCom wants an answer within 5 s — and answered in a background task through the message API).

A missing signature is 401, a wrong one 403; neither reaches the conversation. The signature (SHA1 over the
sorted token, timestamp, nonce and ciphertext) is checked in constant time first; decryption (AES-256-CBC) is
wechatpy's `WeChatCrypto`."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from xml.etree import ElementTree

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from wechatpy.exceptions import WeChatException

from bot.channels.wecom.channel import WeComChannel

log = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom/callback"
MAX_BODY_BYTES = 64 * 1024


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def _signature_problem(
    signature: str | None, timestamp: str | None, nonce: str | None
) -> JSONResponse | None:
    if not (signature and timestamp and nonce):
        return _problem(401, "Unauthorized", "缺少 msg_signature、timestamp 或 nonce 参数。")
    return None


Param = Annotated[str | None, Query()]


def make_wecom_router(channel: WeComChannel) -> APIRouter:
    router = APIRouter(tags=["wecom"])

    @router.get(CALLBACK_PATH, include_in_schema=False)
    async def verify_url(
        msg_signature: Param = None, timestamp: Param = None, nonce: Param = None, echostr: Param = None
    ) -> Response:
        problem = _signature_problem(msg_signature, timestamp, nonce)
        if problem is not None or not echostr:
            return problem or _problem(401, "Unauthorized", "缺少 echostr 参数。")
        assert msg_signature and timestamp and nonce
        if not channel.signed(msg_signature, timestamp, nonce, echostr):
            log.warning("wecom: URL verification with a wrong signature")
            return _problem(403, "Forbidden", "签名校验失败。")
        try:
            plain = channel.crypto.check_signature(msg_signature, timestamp, nonce, echostr)
        except (WeChatException, ValueError):
            return _problem(400, "Bad Request", "echostr 无法解密。")
        return PlainTextResponse(plain)

    @router.post(CALLBACK_PATH, include_in_schema=False)
    async def receive(
        request: Request,
        background: BackgroundTasks,
        msg_signature: Param = None,
        timestamp: Param = None,
        nonce: Param = None,
    ) -> Response:
        problem = _signature_problem(msg_signature, timestamp, nonce)
        if problem is not None:
            return problem
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _problem(413, "Payload Too Large", "消息体过大。")
        assert msg_signature and timestamp and nonce
        try:
            ciphertext = ElementTree.fromstring(body).findtext("Encrypt") or ""
        except ElementTree.ParseError:
            ciphertext = ""
        if not ciphertext:
            return _problem(400, "Bad Request", "消息体不是企业微信的加密消息。")
        if not channel.signed(msg_signature, timestamp, nonce, ciphertext):
            log.warning("wecom: message with a wrong signature dropped")
            return _problem(403, "Forbidden", "签名校验失败。")
        try:
            xml = channel.crypto.decrypt_message({"Encrypt": ciphertext}, msg_signature, timestamp, nonce)
        except Exception:  # bad base64 or padding, another corp's message
            log.warning("wecom: message could not be decrypted", exc_info=True)
            return _problem(400, "Bad Request", "消息无法解密。")
        try:
            message: Any = channel.parse(xml)
        except Exception:
            log.warning("wecom: decrypted message is not a WeCom message", exc_info=True)
            return _problem(400, "Bad Request", "消息格式不正确。")
        if message is None or message.type == "event":
            return PlainTextResponse("")  # enter_agent, subscribe, …: nothing to answer
        if message.agent and message.agent != channel.config.agent_id:
            log.warning(
                "wecom: message for agent %s ignored (this is agent %s)",
                message.agent,
                channel.config.agent_id,
            )
            return PlainTextResponse("")
        key = f"{message.source}:{message.id or message.time}"
        if not await run_in_threadpool(channel.first_time, key):
            log.info("wecom: retried message %s already being answered", key)
            return PlainTextResponse("")
        background.add_task(channel.handle, message)
        return PlainTextResponse("")

    return router
