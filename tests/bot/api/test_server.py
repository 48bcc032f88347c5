"""A real uvicorn server on 127.0.0.1 talked to by the real `openai` client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.api.app import create_app
from bot.service import AssistantService
from tests.bot.api.conftest import api_settings
from tests.bot.api.live import live_server
from tests.conftest import free_port

API_KEY = "sk-policybot-test"


@pytest.fixture
def server(service: AssistantService, tmp_path: Path) -> Iterator[str]:
    app = create_app(service=service, settings=api_settings(tmp_path, api_keys=[API_KEY]))
    with live_server(app, free_port()) as url:
        yield url


@pytest.mark.slow
def test_openai_client_against_real_server(server: str) -> None:
    from openai import OpenAI

    assert httpx.get(f"{server}/readyz").status_code == 200
    client = OpenAI(base_url=f"{server}/v1", api_key=API_KEY, timeout=60, max_retries=0)
    assert [m.id for m in client.models.list().data] == ["policybot"]

    completion = client.chat.completions.create(
        model="policybot", messages=[{"role": "user", "content": "计划要发挥哪类基础设施的共性支撑作用？"}]
    )
    content = completion.choices[0].message.content or ""
    assert "创新基础设施" in content
    assert "\n\n[1] 《淄博市新型基础设施建设三年行动计划(2021-2023年)》淄政办字〔2021〕78号" in content
    assert completion.model_extra and completion.model_extra["citations"]

    stream = client.chat.completions.create(
        model="policybot",
        messages=[{"role": "user", "content": "计划要发挥哪类基础设施的共性支撑作用？"}],
        stream=True,
    )
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert "创新基础设施" in streamed and "[1] 《" in streamed

    bad = OpenAI(base_url=f"{server}/v1", api_key="wrong", max_retries=0)
    from openai import AuthenticationError

    with pytest.raises(AuthenticationError):
        bad.models.list()
