"""A fake WeCom server on 127.0.0.1 (Starlette under uvicorn): `GET /cgi-bin/gettoken` and
`POST /cgi-bin/message/send`, with tokens that expire on demand and failures queued on demand; and
`WeComSender`, which signs and encrypts callbacks the way WeCom does — written here with `cryptography`
directly from WeCom's description (not with wechatpy), so the channel's crypto is checked against an
independent implementation."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CORP_ID = "ww0123456789abcdef"
SECRET = "wecom-app-secret"
AGENT_ID = 1000002
TOKEN = "callbackToken123"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters


@dataclass
class Failure:
    status: int = 200
    errcode: int = 0
    errmsg: str = ""


class FakeWeCom:
    def __init__(self) -> None:
        self.base_url = ""
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self.token = ""
        self.expires_in = 7200
        self.token_requests = 0
        self.sent: list[dict[str, Any]] = []
        self.attempts = 0
        self.failures: list[Failure] = []
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/gettoken", self._gettoken, methods=["GET"]),
                Route("/cgi-bin/message/send", self._send, methods=["POST"]),
            ]
        )

    def expire_token(self) -> None:
        """WeCom answers the current token with 42001 from now on (as after its expires_in)."""
        with self._lock:
            self.token = f"expired-{self.token}"

    def fail_next(self, *failures: Failure) -> None:
        with self._lock:
            self.failures.extend(failures)

    def texts(self) -> list[str]:
        with self._lock:
            return [m[m["msgtype"]]["content"] for m in self.sent]

    async def _gettoken(self, request: Request) -> Response:
        params = request.query_params
        with self._lock:
            self.token_requests += 1
            if params.get("corpid") != CORP_ID or params.get("corpsecret") != SECRET:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            self.token = f"token-{next(self._tokens)}"
            return JSONResponse(
                {"errcode": 0, "errmsg": "ok", "access_token": self.token, "expires_in": self.expires_in}
            )

    async def _send(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        body = json.loads(await request.body())
        with self._lock:
            self.attempts += 1
            if self.failures:
                failure = self.failures.pop(0)
                if failure.status != 200:
                    return Response("upstream error", status_code=failure.status)
                return JSONResponse({"errcode": failure.errcode, "errmsg": failure.errmsg})
            if token != self.token:
                code = 42001 if token and self.token == f"expired-{token}" else 40014
                return JSONResponse({"errcode": code, "errmsg": "access_token expired or invalid"})
            if body.get("agentid") != AGENT_ID:
                return JSONResponse({"errcode": 40056, "errmsg": "invalid agentid"})
            self.sent.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": f"m{len(self.sent)}"})


# -- WeCom's side of the callback --------------------------------------------------------------------


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def encrypt(plain: str, aes_key: str = AES_KEY, receive_id: str = CORP_ID) -> str:
    """AES-256-CBC, IV = first 16 key bytes, PKCS#7 to 32-byte blocks over
    random(16) + length(4, network order) + message + receive id; base64."""
    key = base64.b64decode(aes_key + "=")
    raw = plain.encode()
    data = os.urandom(16) + struct.pack(">I", len(raw)) + raw + receive_id.encode()
    pad = 32 - len(data) % 32
    data += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def text_message(content: str, *, user: str = "zhangsan", msg_id: int = 1, agent_id: int = AGENT_ID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{agent_id}</AgentID></xml>"
    )


def image_message(*, user: str = "zhangsan", msg_id: int = 1) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://127.0.0.1/p.png]]></PicUrl><MediaId><![CDATA[m]]></MediaId>"
        f"<MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
    )


def callback(plain_xml: str, *, token: str = TOKEN) -> tuple[dict[str, str], bytes]:
    """Query parameters and body of one callback POST, as WeCom sends it."""
    encrypted = encrypt(plain_xml)
    timestamp, nonce = str(int(time.time())), os.urandom(6).hex()
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><AgentID><![CDATA[{AGENT_ID}]]></AgentID>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()
    params = {
        "msg_signature": signature(token, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    return params, body


def verification(echo: str, *, token: str = TOKEN) -> dict[str, str]:
    encrypted = encrypt(echo)
    timestamp, nonce = str(int(time.time())), os.urandom(6).hex()
    return {
        "msg_signature": signature(token, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": encrypted,
    }
