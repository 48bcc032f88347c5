"""LLM endpoint faults over HTTP: `/v1/ask` in `openai` mode with the endpoint down (connection refused) or
hanging past the timeout answers 200 with the extractive fallback and its notice, within the configured
timeout; never a 5xx. (tests/bot/test_openai_mode.py covers the same faults at the service level, plus
HTTP 500, garbage, an invented number and a bad citation.)"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.service import AssistantService
from retrieval.library import PolicyLibrary
from tests.bot.api.conftest import api_settings
from tests.bot.api.test_api import parse_sse
from tests.conftest import free_port
from tests.support.fake_openai import FakeOpenAI

QUESTION = "山东省方案要求到2022年建成多少5G基站？"
TIMEOUT = 2.0  # llm_timeout, seconds
HANG = 8.0  # how long the hanging endpoint takes to answer
SLACK = 1.5  # seconds allowed beyond the timeout for the client to give up (2 shared cores)
UNAVAILABLE = "模型服务不可用"


def _client(library: PolicyLibrary, data_dir: Path, base_url: str) -> TestClient:
    settings = api_settings(data_dir, llm_base_url=base_url, llm_model="fake-qwen", llm_timeout=TIMEOUT)
    service = AssistantService.from_settings(settings, library=library, answer_cache_size=0)
    assert "openai" in service.modes
    return TestClient(create_app(service=service, settings=settings))


@pytest.fixture
def down(built_library: PolicyLibrary, tmp_path: Path) -> Iterator[TestClient]:
    """Nothing listens on the endpoint's port."""
    with _client(built_library, tmp_path, f"http://127.0.0.1:{free_port()}/v1") as client:
        yield client


@pytest.fixture
def hanging(built_library: PolicyLibrary, tmp_path: Path) -> Iterator[tuple[TestClient, FakeOpenAI]]:
    with FakeOpenAI() as fake, _client(built_library, tmp_path, fake.base_url) as client:
        yield client, fake


def _assert_fallback(body: dict) -> None:
    assert "11.2" in body["answer"], body["answer"]  # the extractive answer
    assert any(UNAVAILABLE in n for n in body["notices"]), body["notices"]
    assert body["timings_ms"]["llm"] < (TIMEOUT + SLACK) * 1000, body["timings_ms"]


def test_llm_endpoint_down_over_http(down: TestClient) -> None:
    started = time.monotonic()
    response = down.post("/v1/ask", json={"question": QUESTION, "mode": "openai"})
    assert response.status_code == 200, response.text
    _assert_fallback(response.json())
    assert time.monotonic() - started < TIMEOUT + SLACK + 5  # + retrieval and the extract itself


def test_llm_endpoint_down_over_http_stream(down: TestClient) -> None:
    with down.stream("POST", "/v1/ask?stream=true", json={"question": QUESTION, "mode": "openai"}) as r:
        assert r.status_code == 200
        events = parse_sse("".join(r.iter_text()))
    assert events[-1][0] == "done", events
    _assert_fallback(json.loads(events[-1][1]))


def test_llm_endpoint_hangs_past_the_timeout_over_http(hanging: tuple[TestClient, FakeOpenAI]) -> None:
    client, fake = hanging
    fake.replies = [f"!sleep:{HANG}"]
    started = time.monotonic()
    response = client.post("/v1/ask", json={"question": QUESTION, "mode": "openai"})
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    _assert_fallback(response.json())
    assert len(fake.requests) == 1  # one attempt, no retry
    assert elapsed < HANG, f"waited {elapsed:.1f}s: the answer waited for the endpoint, not the timeout"
