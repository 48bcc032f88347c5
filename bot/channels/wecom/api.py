"""The WeCom server API: wechatpy's enterprise `WeChatClient` pointed at a configurable base URL. The access
token is cached (wechatpy keeps it until 60 s before `expires_in`) and renewed when WeCom says it expired or is
invalid; each call goes through the channels' `deliver` (bounded retries with backoff on network errors,
HTTP 5xx, errcode -1 "system busy" and 45009 rate limit). Blocking (requests): call it from a worker thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import requests
from wechatpy.enterprise.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.channels.delivery import DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, Verdict, deliver

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, token expired
TRANSIENT_ERRORS = frozenset({-1, 45009})  # system busy, API frequency limit


class _Client(WeChatClient):
    """wechatpy's client with its base URL (API calls and gettoken) taken from the settings."""

    def __init__(self, base_url: str, corp_id: str, secret: str, timeout: float) -> None:
        self.API_BASE_URL = f"{base_url.rstrip('/')}/cgi-bin/"
        # auto_retry off: wechatpy would renew the token and retry without bound; `deliver` does it, bounded
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )

    def forget_access_token(self) -> None:
        self.session.delete(self.access_token_key)
        self.expires_at = None


def classify(exc: Exception) -> tuple[Verdict, str]:
    if isinstance(exc, WeChatClientException):
        if exc.errcode is None:
            return Verdict.RETRY, "HTTP error"
        reason = f"errcode {exc.errcode} {exc.errmsg}"
        if exc.errcode in TOKEN_ERRORS:
            return Verdict.REFRESH, reason
        return (Verdict.RETRY if exc.errcode in TRANSIENT_ERRORS else Verdict.GIVE_UP), reason
    if isinstance(exc, requests.RequestException):
        return Verdict.RETRY, f"{type(exc).__name__}: {exc}"
    raise exc


class WeComAPI:
    def __init__(
        self,
        base_url: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        *,
        timeout: float = 10.0,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = _Client(base_url, corp_id, secret, timeout)
        self.agent_id = agent_id
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep

    def _call(self, send: Callable[[], Any], what: str) -> Any:
        return deliver(
            send,
            what=f"wecom {what}",
            classify=classify,
            log=log,
            attempts=self.attempts,
            backoff=self.backoff,
            refresh=self.client.forget_access_token,
            sleep=self._sleep,
        )

    def send_markdown(self, user_id: str, content: str) -> Any:
        return self._call(
            lambda: self.client.message.send_markdown(self.agent_id, user_id, content),
            f"markdown to {user_id}",
        )

    def send_text(self, user_id: str, content: str) -> Any:
        return self._call(
            lambda: self.client.message.send_text(self.agent_id, user_id, content), f"text to {user_id}"
        )
