"""Helpers for tests that need a real server: uvicorn in a thread, and a copy of the built index."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from retrieval.library import PolicyLibrary


@contextmanager
def live_server(app: FastAPI, port: int, timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` with uvicorn (lifespan on) on 127.0.0.1:port; yields the base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def copy_index(library: PolicyLibrary, data_dir: Path) -> Path:
    """A private copy of an already built data directory (index + Chroma), so a test may change it
    or hand it to another process without re-embedding the corpus."""
    source = library.layout.data_dir
    shutil.copytree(source, data_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("LOCK"))
    return data_dir
