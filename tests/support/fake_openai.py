"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests (stdlib HTTP, one thread).

`replies` is a queue of behaviours: a string is returned as the answer (streamed in small pieces when the
request asks for stream=true, `piece_delay` seconds apart, the first after `first_token_delay`, as a model's
prompt processing takes); "!500" answers HTTP 500; "!sleep:N" waits N seconds first; "!garbage" sends
invalid JSON."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    def __init__(self) -> None:
        self.replies: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.piece_delay = 0.0
        self.first_token_delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                server.requests.append({"path": self.path, "body": body})
                reply = server.replies.pop(0) if server.replies else "根据现有政策文件，无法回答该问题。"
                if reply.startswith("!sleep:"):
                    time.sleep(float(reply.split(":", 1)[1]))
                    reply = "迟到的回答[1]"
                if reply == "!500":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "boom"}}')
                    return
                if reply == "!garbage":
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"<html>not json")
                    return
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    time.sleep(server.first_token_delay)
                    for i in range(0, len(reply), 4):
                        chunk = {
                            "id": "c1",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": body.get("model", "fake"),
                            "choices": [
                                {"index": 0, "delta": {"content": reply[i : i + 4]}, "finish_reason": None}
                            ],
                        }
                        try:
                            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                            self.wfile.flush()
                        except (BrokenPipeError, ConnectionResetError):
                            return  # the client stopped reading
                        time.sleep(server.piece_delay)
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                payload = {
                    "id": "c1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
