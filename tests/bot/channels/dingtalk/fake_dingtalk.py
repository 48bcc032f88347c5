"""A fake DingTalk on 127.0.0.1 (Starlette under uvicorn): the Stream gateway (`POST
/v1.0/gateway/connections/open` → a WebSocket endpoint and ticket; the WebSocket pushes robot-message frames
and records the client's acknowledgements) and the session webhook that replies are posted to."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

CLIENT_ID = "dingabcdefghijklmn"
CLIENT_SECRET = "robot-client-secret"
ROBOT_TOPIC = "/v1.0/im/bot/messages/get"


class FakeDingTalk:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.base_url = ""
        self.open_requests: list[dict[str, Any]] = []
        self.tickets: set[str] = set()
        self.acks: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.reply_attempts = 0
        self.reply_failures: list[int] = []  # HTTP statuses for the next reply attempts
        self.connected = threading.Event()
        self._socket: WebSocket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.app = Starlette(
            routes=[
                Route("/v1.0/gateway/connections/open", self._open, methods=["POST"]),
                WebSocketRoute("/gateway", self._gateway),
                Route("/robot/sendBySession", self._reply, methods=["POST"]),
            ]
        )

    # -- what a test does ----------------------------------------------------------------------------
    def push(self, frame: dict[str, Any]) -> None:
        assert self._loop is not None and self._socket is not None, "no client connected"
        asyncio.run_coroutine_threadsafe(self._socket.send_text(json.dumps(frame)), self._loop).result(10)

    def robot_message(
        self,
        text: str,
        *,
        msg_id: str | None = None,
        staff_id: str = "staff001",
        conversation_id: str = "cid-private-001",
        group: bool = False,
        at_robot: bool = True,
        msgtype: str = "text",
    ) -> dict[str, Any]:
        """One frame as the gateway sends it for a message to the robot."""
        now_ms = int(time.time() * 1000)
        data: dict[str, Any] = {
            "conversationId": conversation_id,
            "chatbotCorpId": "dingcorp",
            "chatbotUserId": "$:LWCP_v1:$robot",
            "msgId": msg_id or f"msg{next(self._ids)}",
            "senderNick": "张三",
            "isAdmin": False,
            "senderStaffId": staff_id,
            "sessionWebhookExpiredTime": now_ms + 3_600_000,
            "createAt": now_ms,
            "senderCorpId": "dingcorp",
            "conversationType": "2" if group else "1",
            "senderId": f"$:LWCP_v1:${staff_id}",
            "sessionWebhook": f"{self.base_url}/robot/sendBySession?session={conversation_id}",
            "robotCode": CLIENT_ID,
            "msgtype": msgtype,
        }
        if msgtype == "text":
            data["text"] = {"content": text}
        else:
            data["content"] = {"downloadCode": "code", "pictureDownloadCode": "code"}
        if group:
            data["isInAtList"] = at_robot
            data["conversationTitle"] = "政策讨论群"
        return {
            "specVersion": "1.0",
            "type": "CALLBACK",
            "headers": {
                "appId": "app",
                "connectionId": "conn",
                "contentType": "application/json",
                "messageId": f"frame-{next(self._ids)}",
                "time": str(now_ms),
                "topic": ROBOT_TOPIC,
            },
            "data": json.dumps(data, ensure_ascii=False),
        }

    def reply_texts(self) -> list[str]:
        with self._lock:
            return [r["markdown"]["text"] for r in self.replies]

    # -- HTTP and WebSocket --------------------------------------------------------------------------
    async def _open(self, request: Request) -> Response:
        body = json.loads(await request.body())
        with self._lock:
            self.open_requests.append(body)
            if body.get("clientId") != CLIENT_ID or body.get("clientSecret") != CLIENT_SECRET:
                return JSONResponse({"code": "InvalidAuthentication", "message": "bad credentials"}, 401)
            ticket = f"ticket-{next(self._ids)}"
            self.tickets.add(ticket)
        endpoint = self.base_url.replace("http://", "ws://") + "/gateway"
        return JSONResponse({"endpoint": endpoint, "ticket": ticket})

    async def _gateway(self, websocket: WebSocket) -> None:
        if websocket.query_params.get("ticket") not in self.tickets:
            await websocket.close(code=4001)
            return
        await websocket.accept()
        self._socket, self._loop = websocket, asyncio.get_running_loop()
        self.connected.set()
        try:
            while True:
                ack = json.loads(await websocket.receive_text())
                with self._lock:
                    self.acks.append(ack)
        except WebSocketDisconnect:
            self.connected.clear()

    async def _reply(self, request: Request) -> Response:
        body = json.loads(await request.body())
        with self._lock:
            self.reply_attempts += 1
            if self.reply_failures:
                return Response("busy", status_code=self.reply_failures.pop(0))
            self.replies.append({**body, "session": request.query_params.get("session")})
        return JSONResponse({"errcode": 0, "errmsg": "ok"})
