"""dingtalk-stream's `DingTalkStreamClient` with three changes: the open-connection call goes to the configured
OpenAPI base URL (the SDK reads it once from an environment variable at import time), the local IP it reports
is not found by opening a socket towards a public address, and the run loop ends when its task is cancelled
(the SDK's loop catches the cancellation and reconnects forever), reconnecting with backoff otherwise.
Frames, acknowledgements and handler routing stay the SDK's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import platform
from typing import Any
from urllib.parse import quote_plus

import requests
import websockets
from dingtalk_stream import Credential, DingTalkStreamClient
from dingtalk_stream.version import VERSION_STRING

log = logging.getLogger(__name__)

OPEN_CONNECTION_PATH = "/v1.0/gateway/connections/open"
MAX_RECONNECT_DELAY = 60.0


class PolicyStreamClient(DingTalkStreamClient):
    def __init__(self, credential: Credential, base_url: str, *, reconnect_delay: float = 3.0) -> None:
        super().__init__(credential, logger=logging.getLogger("dingtalk_stream.client"))
        self.base_url = base_url.rstrip("/")
        self.reconnect_delay = reconnect_delay
        self.connected = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    def get_host_ip(self) -> str:
        return ""  # optional in the open-connection request

    def open_connection(self) -> dict[str, Any] | None:
        """POST {base_url}/v1.0/gateway/connections/open → {"endpoint": "wss://…", "ticket": "…"}."""
        topics = [{"type": "CALLBACK", "topic": topic} for topic in self.callback_handler_map]
        if self._is_event_required:
            topics.append({"type": "EVENT", "topic": "*"})
        body = {
            "clientId": self.credential.client_id,
            "clientSecret": self.credential.client_secret,
            "subscriptions": topics,
            "ua": f"dingtalk-sdk-python/v{VERSION_STRING}-union policybot",
            "localIp": self.get_host_ip(),
        }
        headers = {
            "Accept": "application/json",
            "User-Agent": f"DingTalkStream/1.0 SDK/{VERSION_STRING} Python/{platform.python_version()}",
        }
        try:
            response = requests.post(
                f"{self.base_url}{OPEN_CONNECTION_PATH}", json=body, headers=headers, timeout=10
            )
            response.raise_for_status()
            connection = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.error("dingtalk: opening a Stream connection failed: %s", exc)
            return None
        if not isinstance(connection, dict) or not connection.get("endpoint") or not connection.get("ticket"):
            log.error("dingtalk: the gateway gave no endpoint and ticket: %s", connection)
            return None
        return connection

    async def start(self) -> None:
        """Connects, routes frames to the handlers, and reconnects (with backoff) until cancelled."""
        self.pre_start()
        delay = self.reconnect_delay
        while True:
            connection = await asyncio.to_thread(self.open_connection)
            if connection is not None:
                uri = f"{connection['endpoint']}?ticket={quote_plus(connection['ticket'])}"
                try:
                    await self._serve(uri)
                    delay = self.reconnect_delay  # a connection that worked resets the backoff
                except (websockets.exceptions.WebSocketException, OSError) as exc:
                    log.warning("dingtalk: Stream connection lost: %s", exc)
            log.info("dingtalk: reconnecting in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY)

    async def _serve(self, uri: str) -> None:
        async with websockets.connect(uri) as websocket:
            self.websocket = websocket
            self.connected.set()
            log.info("dingtalk: Stream connected")
            keepalive = asyncio.create_task(self.keepalive(websocket))
            try:
                async for raw in websocket:
                    try:
                        frame = json.loads(raw)
                    except ValueError:
                        log.warning("dingtalk: a frame that is not JSON was ignored")
                        continue
                    task = asyncio.create_task(self.background_task(frame))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            finally:
                self.connected.clear()
                keepalive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keepalive
