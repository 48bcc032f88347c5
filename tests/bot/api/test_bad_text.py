"""Every text a client can send gets one validation: lone surrogates, NUL/control characters and bidi controls
are a 4xx problem detail on every route (never a 500, never a stored record that cannot be read back), while
mixed-width, traditional and right-to-left text is answered as usual."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.service import AssistantService
from tests.bot.api.conftest import ADMIN_KEY, api_settings
from tests.bot.api.test_api import assert_problem

# Escaped in the JSON text itself, as a client would send them: json.loads gives Python strings holding them.
BAD_JSON_STRINGS = {
    "lone high surrogate": "\\ud800",
    "lone low surrogate": "\\udfff",
    "NUL": "\\u0000",
    "escape control": "\\u001b[31m",
    "C1 control": "\\u0085",
    "bidi override": "\\u202e",
    "bidi isolate": "\\u2067",
}


def post_raw(client: TestClient, path: str, body: str, **headers: str):
    return client.post(
        path, content=body.encode("ascii"), headers={"content-type": "application/json", **headers}
    )


@pytest.mark.parametrize("name", sorted(BAD_JSON_STRINGS))
def test_bad_question_is_422_on_every_answering_route(client: TestClient, name: str) -> None:
    bad = BAD_JSON_STRINGS[name]
    question = f'"\\u65b0\\u57fa\\u5efa{bad}"'  # 新基建 + the bad character
    for path, body, headers in [
        ("/v1/ask", f'{{"question": {question}}}', {}),
        ("/v1/ask?stream=true", f'{{"question": {question}}}', {}),
        ("/v1/ask", f'{{"question": {question}}}', {"accept": "text/event-stream"}),
        ("/v1/chat/completions", f'{{"messages": [{{"role": "user", "content": {question}}}]}}', {}),
        (
            "/v1/chat/completions",
            f'{{"stream": true, "messages": [{{"role": "user", "content": {question}}}]}}',
            {},
        ),
        (
            "/v1/chat/completions",
            f'{{"messages": [{{"role": "user", "content": [{{"type": "text", "text": {question}}}]}}]}}',
            {},
        ),
    ]:
        body_problem = assert_problem(post_raw(client, path, body, **headers), 422)
        assert "U+" in body_problem["detail"], (path, body_problem)


@pytest.mark.parametrize("name", sorted(BAD_JSON_STRINGS))
def test_bad_text_in_other_fields_is_422(client: TestClient, name: str) -> None:
    bad = BAD_JSON_STRINGS[name]
    cases = [
        ("/v1/ask", f'{{"question": "淄博新基建", "session_id": "s{bad}"}}'),
        ("/v1/ask", f'{{"question": "淄博新基建", "filters": {{"doc_id": "x{bad}"}}}}'),
        ("/v1/ask", f'{{"question": "淄博新基建", "filters": {{"issuer": ["ok", "x{bad}"]}}}}'),
        ("/v1/chat/completions", f'{{"user": "u{bad}", "messages": [{{"role": "user", "content": "hi"}}]}}'),
        ("/v1/chat/completions", f'{{"model": "m{bad}", "messages": [{{"role": "user", "content": "hi"}}]}}'),
        ("/v1/feedback", f'{{"answer_id": "a{bad}", "rating": "up"}}'),
    ]
    if name != "NUL":  # a comment may hold tabs and line breaks, never the other characters
        cases.append(("/v1/feedback", f'{{"answer_id": "a1", "rating": "down", "comment": "x{bad}"}}'))
    for path, body in cases:
        assert_problem(post_raw(client, path, body.encode("ascii", "backslashreplace").decode()), 422)


def test_bad_feedback_comment_is_not_stored(client: TestClient, api_data_dir: Path) -> None:
    before = _feedback_rows(api_data_dir)
    assert_problem(
        post_raw(client, "/v1/feedback", '{"answer_id": "a1", "rating": "down", "comment": "\\ud800"}'), 422
    )
    assert _feedback_rows(api_data_dir) == before


def _feedback_rows(data_dir: Path) -> int:
    path = data_dir / "feedback.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]


@pytest.mark.parametrize("raw", ["%00", "%1B", "%E2%80%AE", "%ED%A0%80"])
def test_bad_text_in_query_and_path_parameters_is_4xx(client: TestClient, raw: str) -> None:
    # %ED%A0%80 is a surrogate encoded as UTF-8 bytes (invalid UTF-8): whatever the server decodes it to, no 5xx.
    search = client.get(f"/v1/search?q=%E6%96%B0{raw}")
    assert 400 <= search.status_code < 500 or (raw == "%ED%A0%80" and search.status_code == 200), search.text
    document = client.get(f"/v1/documents/zibo{raw}")
    assert 400 <= document.status_code < 500, document.text


def test_bad_upload_file_name_is_422(service: AssistantService, tmp_path: Path) -> None:
    app = create_app(service=service, settings=api_settings(tmp_path))
    with TestClient(app) as client:
        response = client.post(
            "/v1/documents",
            headers={"X-Admin-Key": ADMIN_KEY},
            files={
                "file": (
                    "bad\x1bname.md",
                    "---\nid: bad-name\n---\n一、总则\n正文。\n".encode(),
                    "text/markdown",
                )
            },
        )
        body = assert_problem(response, 422)
        assert "文件名" in body["detail"]


@pytest.mark.parametrize(
    "question",
    [
        "淄博新基建计划的基本原则有哪些？",
        "淄博新基建计划（２０２１－２０２３年）的基本原则有哪些？",  # full-width digits and punctuation
        "淄博新基建計劃的基本原則有哪些？",  # traditional characters
        "\u200f淄博新基建计划的基本原则有哪些？",  # a right-to-left mark is a mark, not a control
        "淄博新基建计划的\t基本原则\n有哪些？",
    ],
)
def test_mixed_width_traditional_and_marks_are_answered(client: TestClient, question: str) -> None:
    response = client.post(
        "/v1/ask",
        content=json.dumps({"question": question}).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert not response.json()["refused"]
