"""Shared by the WeCom and DingTalk tests: a fake server on 127.0.0.1, waiting for what a channel does in the
background, and a stand-in for the service that records the questions it was asked."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from bot.answer import Answer
from evals.bench.server import free_port
from tests.bot.api.live import live_server

CITED = "计划要发挥哪类基础设施的共性支撑作用？"
UNANSWERABLE = "深圳市对新建5G基站每站补贴多少钱？"


@contextmanager
def serve(fake: Any) -> Iterator[Any]:
    """Serves `fake.app` with uvicorn on a free port and sets `fake.base_url`."""
    with live_server(fake.app, free_port()) as base_url:
        fake.base_url = base_url
        yield fake


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


class FakeService:
    """The part of AssistantService a text channel uses; records questions and their session ids."""

    modes = ("extractive",)
    default_mode = "extractive"
    generators: ClassVar[dict[str, Any]] = {}

    def __init__(self, answer_text: str) -> None:
        self.answer_text = answer_text
        self.asked: list[tuple[str, str | None]] = []

    def ask(self, question: str, session_id: str | None = None, mode: str | None = None) -> Answer:
        self.asked.append((question, session_id))
        return Answer(answer_id=f"fake{len(self.asked)}", answer=self.answer_text, question=question)

    def last_answer(self, session_id: str) -> Answer | None:
        return None

    def reset(self, session_id: str) -> None:
        pass
