"""The WeCom server API: wechatpy's enterprise `WeChatClient` pointed at a configurable base URL, with the
access token cached (wechatpy keeps it until 60 s before `expires_in`), refreshed when WeCom says it expired
or is invalid, and every call retried with exponential backoff on transient errors (network, HTTP 5xx,
errcode -1 "system busy", 45009 rate limit). Blocking (requests): call it from a worker thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import requests
from wechatpy.enterprise.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, token expired
TRANSIENT_ERRORS = frozenset({-1, 45009})  # system busy, API frequency limit
DEFAULT_ATTEMPTS = 4
DEFAULT_BACKOFF = 0.5  # seconds; doubled after each failed attempt


class WeComSendError(RuntimeError):
    """A message could not be sent (a permanent error, or every attempt failed)."""


class _Client(WeChatClient):
    """wechatpy's client with its base URL (API calls and gettoken) taken from the settings."""

    def __init__(self, base_url: str, corp_id: str, secret: str, timeout: float) -> None:
        self.API_BASE_URL = f"{base_url.rstrip('/')}/cgi-bin/"
        # auto_retry off: wechatpy would refresh and retry without bound; WeComAPI.call does it, bounded
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )


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
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._sleep = sleep

    def call(self, send: Callable[[WeChatClient], Any], what: str) -> Any:
        """Runs one API call with token refresh and bounded retries; raises WeComSendError when it gives up."""
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return send(self.client)
            except WeChatClientException as exc:
                if exc.errcode in TOKEN_ERRORS:
                    log.info(
                        "wecom %s: access token rejected (errcode %s), fetching a new one", what, exc.errcode
                    )
                    self.client.session.delete(self.client.access_token_key)
                    self.client.expires_at = None
                    continue  # a fresh token is fetched by the next call; no wait needed
                if exc.errcode is not None and exc.errcode not in TRANSIENT_ERRORS:
                    log.error("wecom %s failed: errcode %s %s (not retried)", what, exc.errcode, exc.errmsg)
                    raise WeComSendError(f"{what}: errcode {exc.errcode} {exc.errmsg}") from exc
                reason = f"errcode {exc.errcode} {exc.errmsg}" if exc.errcode is not None else "HTTP error"
            except requests.RequestException as exc:
                reason = f"{type(exc).__name__}: {exc}"
            if attempt == self.attempts:
                break
            log.warning(
                "wecom %s failed (%s); retry %d of %d in %.2fs",
                what,
                reason,
                attempt,
                self.attempts - 1,
                delay,
            )
            self._sleep(delay)
            delay *= 2
        log.error("wecom %s failed after %d attempts", what, self.attempts)
        raise WeComSendError(f"{what}: failed after {self.attempts} attempts")

    def send_markdown(self, user_id: str, content: str) -> Any:
        return self.call(
            lambda c: c.message.send_markdown(self.agent_id, user_id, content), f"markdown to {user_id}"
        )

    def send_text(self, user_id: str, content: str) -> Any:
        return self.call(lambda c: c.message.send_text(self.agent_id, user_id, content), f"text to {user_id}")
