"""The HTTP API against a real AssistantService over the real corpus."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.service import AssistantService
from tests.bot.api.conftest import ADMIN_KEY, api_settings

QUESTION = "计划要发挥哪类基础设施的共性支撑作用？"


def parse_sse(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        events.append((event, "\n".join(data)))
    return events


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "detail"} <= set(body)
    assert "Traceback" not in response.text
    return body


# -- ask ---------------------------------------------------------------------------------------------
def test_ask_returns_answer_with_citations(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "创新基础设施" in body["answer"]
    assert not body["refused"]
    assert body["citations"] and body["citations"][0]["doc_id"] == "zibo-new-infra-2021"
    assert set(body) == set(_answer_fields())


def _answer_fields() -> list[str]:
    from bot.answer import Answer

    return list(Answer.model_fields)


def test_ask_refuses_out_of_scope(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "红烧肉怎么做"}).json()
    assert body["refused"] is True
    assert body["citations"] == []


def test_ask_empty_question_is_422_in_chinese(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/ask", json={"question": "   "}), 422)
    assert "问题为空" in body["detail"]


def test_ask_too_long_is_413(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/ask", json={"question": "新" * 3000}), 413)
    assert "3000" in body["detail"]


def test_ask_malformed_body_is_problem(client: TestClient) -> None:
    assert_problem(client.post("/v1/ask", json={"nope": 1}), 422)


def test_ask_follow_up_in_session(client: TestClient) -> None:
    sid = "api-test-session"
    first = client.post("/v1/ask", json={"question": "淄博新基建计划的基本原则有哪些？", "session_id": sid})
    assert first.status_code == 200 and first.json()["session_id"] == sid


def test_ask_stream_events(client: TestClient) -> None:
    with client.stream("POST", "/v1/ask?stream=true", json={"question": QUESTION}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = parse_sse(text)
    names = [e for e, _ in events]
    assert names[0] == "delta" and names[-2:] == ["citations", "done"]
    streamed = "".join(json.loads(d)["text"] for e, d in events if e == "delta")
    done = json.loads(events[-1][1])
    assert streamed.strip() == done["answer"].strip()
    assert "创新基础设施" in done["answer"]
    assert json.loads(events[-2][1]) == done["citations"]


def test_ask_stream_via_accept_header_and_bad_question(client: TestClient) -> None:
    headers = {"Accept": "text/event-stream"}
    response = client.post("/v1/ask", json={"question": QUESTION}, headers=headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: done" in response.text
    assert_problem(client.post("/v1/ask", json={"question": ""}, headers=headers), 422)


# -- OpenAI-compatible chat --------------------------------------------------------------------------
def test_chat_completion(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={"model": "policybot", "messages": [{"role": "user", "content": QUESTION}]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    content = body["choices"][0]["message"]["content"]
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert "创新基础设施" in content
    assert "\n\n[1] 《淄博市新型基础设施建设三年行动计划(2021-2023年)》淄政办字〔2021〕78号" in content
    assert body["citations"][0]["n"] == 1


def test_chat_completion_with_history(client: TestClient) -> None:
    messages = [
        {"role": "system", "content": "你是政策助手"},
        {"role": "user", "content": "淄博新基建计划的基本原则有哪些？"},
        {"role": "assistant", "content": "……"},
        {"role": "user", "content": QUESTION},
    ]
    body = client.post("/v1/chat/completions", json={"model": "policybot", "messages": messages}).json()
    assert "创新基础设施" in body["choices"][0]["message"]["content"]
    bad = client.post("/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "x"}]})
    assert_problem(bad, 422)


def test_chat_completion_stream(client: TestClient) -> None:
    payload = {"model": "policybot", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with client.stream("POST", "/v1/chat/completions", json=payload) as response:
        assert response.status_code == 200
        text = "".join(response.iter_text())
    lines = [line[len("data: ") :] for line in text.split("\n") if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert "创新基础设施" in content and "\n\n[1] 《" in content
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["citations"]


def test_models(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["policybot"]


# -- search and documents ----------------------------------------------------------------------------
def test_search(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": "创新基础设施 共性支撑", "k": 3})
    assert response.status_code == 200
    passages = response.json()
    assert 1 <= len(passages) <= 3
    assert {"doc_id", "title", "doc_number", "section_path", "text", "score"} <= set(passages[0])
    assert_problem(client.get("/v1/search", params={"q": ""}), 422)


def test_documents_list_and_detail(client: TestClient) -> None:
    docs = client.get("/v1/documents").json()
    ids = {d["doc_id"] for d in docs}
    assert {"zibo-new-infra-2021", "shandong-new-infra-2020", "shandong-digital-infra-opinions-2020"} <= ids
    zibo = next(d for d in docs if d["doc_id"] == "zibo-new-infra-2021")
    assert zibo["completeness"] == "partial" and zibo["period"] == "2021-2023" and zibo["chunk_count"] > 0
    detail = client.get("/v1/documents/zibo-new-infra-2021").json()
    assert detail["doc_number"] == "淄政办字〔2021〕78号"
    assert "创新基础设施" in detail["text"]
    assert any("基本原则" in s for s in detail["sections"])
    assert_problem(client.get("/v1/documents/no-such-doc"), 404)


UPLOAD = """---
id: test-upload-lunar-2026
title: 测试市月球基地建设指导意见
issuer: 测试市人民政府
doc_number: 测政发〔2026〕7号
published: 2026-01-05
period: 2026-2028
---
一、总体要求

到2028年，测试市建成月壤三维打印示范工坊12个，重点发展月壤砖烧结技术。

二、保障措施

设立月球基地专项资金，每年安排3亿元。
"""


def test_upload_ask_and_delete(client: TestClient) -> None:
    files = {"file": ("lunar.md", UPLOAD.encode(), "text/markdown")}
    assert_problem(client.post("/v1/documents", files=files), 403)
    assert_problem(client.post("/v1/documents", files=files, headers={"X-Admin-Key": "wrong"}), 403)
    fake = {"file": ("fake.pdf", b"this is not a pdf at all", "application/pdf")}
    assert_problem(client.post("/v1/documents", files=fake, headers={"X-Admin-Key": ADMIN_KEY}), 422)

    response = client.post("/v1/documents", files=files, headers={"X-Admin-Key": ADMIN_KEY})
    try:
        assert response.status_code == 201, response.text
        summary = response.json()
        assert summary["doc_id"] == "test-upload-lunar-2026" and summary["chunk_count"] > 0
        assert "test-upload-lunar-2026" in {d["doc_id"] for d in client.get("/v1/documents").json()}
        answer = client.post("/v1/ask", json={"question": "月壤三维打印示范工坊建多少个？"}).json()
        assert not answer["refused"], answer
        assert "12" in answer["answer"]
        assert any(c["doc_id"] == "test-upload-lunar-2026" for c in answer["citations"])
    finally:
        deleted = client.delete(
            "/v1/documents/test-upload-lunar-2026", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        )
    assert deleted.status_code == 200, deleted.text
    assert "test-upload-lunar-2026" not in {d["doc_id"] for d in client.get("/v1/documents").json()}
    assert_problem(
        client.delete("/v1/documents/test-upload-lunar-2026", headers={"X-Admin-Key": ADMIN_KEY}), 404
    )
    assert_problem(client.delete("/v1/documents/zibo-new-infra-2021"), 403)


def test_upload_too_large_is_413(client: TestClient) -> None:
    big = {"file": ("big.md", b"a" * (10 * 1024 * 1024 + 10), "text/markdown")}
    assert_problem(client.post("/v1/documents", files=big, headers={"X-Admin-Key": ADMIN_KEY}), 413)


def test_document_operations_disabled_without_admin_key(service: AssistantService, tmp_path: Path) -> None:
    app = create_app(service=service, settings=api_settings(tmp_path, admin_key=None))
    with TestClient(app) as c:
        files = {"file": ("lunar.md", UPLOAD.encode(), "text/markdown")}
        body = assert_problem(c.post("/v1/documents", files=files, headers={"X-Admin-Key": "x"}), 403)
        assert "禁用" in body["detail"]


# -- feedback ----------------------------------------------------------------------------------------
def test_feedback_is_stored(client: TestClient, api_data_dir: Path) -> None:
    answer = client.post("/v1/ask", json={"question": QUESTION}).json()
    response = client.post(
        "/v1/feedback", json={"answer_id": answer["answer_id"], "rating": "up", "comment": "很准确"}
    )
    assert response.status_code == 201, response.text
    assert_problem(client.post("/v1/feedback", json={"answer_id": "x", "rating": "meh"}), 422)
    with sqlite3.connect(api_data_dir / "feedback.sqlite3") as db:
        rows = db.execute("SELECT rating, comment FROM feedback WHERE answer_id = ?", (answer["answer_id"],))
        assert rows.fetchall() == [("up", "很准确")]
        logged = db.execute("SELECT question FROM answers WHERE answer_id = ?", (answer["answer_id"],))
        assert logged.fetchone() == (QUESTION,)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- operations --------------------------------------------------------------------------------------
def test_health_ready_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "index_version": None, "degraded": False}
    ready = client.get("/readyz")
    assert (
        ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["degraded"] is False
    )
    client.post("/v1/ask", json={"question": "红烧肉怎么做"})
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'policybot_http_requests_total{method="POST",route="/v1/ask",status="200"}' in metrics.text
    assert "policybot_refusals_total" in metrics.text
    assert 'policybot_answers_total{mode="extractive"}' in metrics.text
    assert "policybot_http_request_duration_seconds_bucket" in metrics.text


def test_not_ready_while_warming_up(client: TestClient) -> None:
    """A worker that is still warming up (loading models, embedding sentences) takes no traffic yet."""
    client.app.state.warming = True  # type: ignore[attr-defined]
    try:
        warming = client.get("/readyz")
        assert warming.status_code == 503 and warming.headers["retry-after"] == "1"
        assert "预热" in warming.json()["detail"]
    finally:
        client.app.state.warming = False  # type: ignore[attr-defined]
    assert client.get("/readyz").status_code == 200


def test_request_id(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) >= 16
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert client.get("/v1/documents/nope").headers["x-request-id"]


def test_web_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "新对话" in response.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_api_keys(service: AssistantService, tmp_path: Path) -> None:
    app = create_app(service=service, settings=api_settings(tmp_path, api_keys=["key-one", "key-two"]))
    with TestClient(app) as c:
        assert_problem(c.get("/v1/models"), 401)
        assert_problem(c.get("/v1/models", headers={"Authorization": "Bearer nope"}), 401)
        assert c.get("/v1/models", headers={"Authorization": "Bearer key-two"}).status_code == 200
        assert c.get("/v1/models", headers={"X-API-Key": "key-one"}).status_code == 200
        assert c.get("/healthz").status_code == 200


def test_rate_limit(service: AssistantService, tmp_path: Path) -> None:
    app = create_app(service=service, settings=api_settings(tmp_path, rate_limit_per_minute=2))
    with TestClient(app) as c:
        statuses = [c.get("/v1/models").status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429 or statuses == [200, 200, 200]  # 429 unless the minute window rolled over


def test_ask_filters(client: TestClient) -> None:
    only = client.post("/v1/ask", json={"question": QUESTION, "filters": {"doc_id": ["zibo-new-infra-2021"]}})
    assert only.status_code == 200, only.text
    assert {c["doc_id"] for c in only.json()["citations"]} <= {"zibo-new-infra-2021"}
    # found by schemathesis: an unknown filter field was a 500
    assert_problem(client.post("/v1/ask", json={"question": QUESTION, "filters": {"x": 1}}), 422)
    assert_problem(client.post("/v1/ask?stream=true", json={"question": QUESTION, "filters": {"": []}}), 422)
