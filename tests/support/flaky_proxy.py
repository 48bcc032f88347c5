"""An HTTP proxy on loopback in front of a real server that fails every `fail_every`-th POST with a 503 and
records the number of inputs of every embeddings request it passes on: the retries and the batching of an
embeddings client, seen from the outside."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class FlakyProxy:
    def __init__(self, target: str, fail_every: int = 3) -> None:
        self.target = target.rstrip("/")
        self.fail_every = fail_every
        self.posts = 0
        self.failed = 0
        self.batch_sizes: list[int] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with proxy._lock:
                    proxy.posts += 1
                    fail = proxy.fail_every > 0 and proxy.posts % proxy.fail_every == 0
                    if fail:
                        proxy.failed += 1
                if fail:
                    self.send_response(503)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                inputs = json.loads(body).get("input", [])
                with proxy._lock:
                    proxy.batch_sizes.append(len(inputs) if isinstance(inputs, list) else 1)
                upstream = httpx.post(
                    proxy.target + self.path,
                    content=body,
                    headers={"content-type": "application/json"},
                    timeout=120,
                )
                self.send_response(upstream.status_code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
