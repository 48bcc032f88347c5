"""Reliability: SIGKILL during `policybot index`, Chroma unreachable, restart, concurrent writes, bad inputs."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.library_factory import make_library
from bot.service import AssistantService
from retrieval.library import PolicyLibrary
from retrieval.retriever import DEGRADED_NOTICE
from tests.bot.api.conftest import ADMIN_KEY, api_settings
from tests.bot.api.live import copy_index
from tests.conftest import CORPUS_DIR, free_port, library_settings

pytestmark = pytest.mark.slow
ADMIN = {"X-Admin-Key": ADMIN_KEY}
MARKER = "琉璃星火示范工程"


def _env(data_dir: Path, corpus: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "TELEGRAM_", "CHROMA_"))}
    env.update(
        POLICYBOT_DATA_DIR=str(data_dir), POLICYBOT_CORPUS_DIR=str(corpus), POLICYBOT_EMBEDDING_THREADS="1"
    )
    return env


def _current(data_dir: Path) -> str:
    return (data_dir / "index" / "CURRENT").read_text().strip()


# (a) -----------------------------------------------------------------------------------------------------------
def test_sigkill_during_index_keeps_previous_version(built_library: PolicyLibrary, tmp_path: Path) -> None:
    data_dir = copy_index(built_library, tmp_path / "data")
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    before = _current(data_dir)
    target = corpus / "zibo-new-infra-plan-2021-2023.md"
    extra = "\n".join(
        f"\n## 附加条款{i}\n{MARKER}第{i}项：推进第{i}批数字化改造与算力节点建设。" for i in range(120)
    )
    target.write_text(target.read_text(encoding="utf-8") + extra, encoding="utf-8")

    command = [str(Path(sys.executable).parent / "policybot"), "index"]
    process = subprocess.Popen(
        command, env=_env(data_dir, corpus), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    seen = b""
    deadline = time.monotonic() + 120
    os.set_blocking(process.stdout.fileno(), False)  # type: ignore[union-attr]
    while b"embedding" not in seen:  # tqdm's bar: the new chunks are being embedded now
        assert process.poll() is None, f"index finished before it could be killed: {seen[-500:]!r}"
        assert time.monotonic() < deadline, "index never started embedding"
        chunk = process.stdout.read() if process.stdout else None  # type: ignore[union-attr]
        seen += chunk or b""
        time.sleep(0.02)
    time.sleep(0.5)
    assert process.poll() is None, "index finished before the kill"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    assert _current(data_dir) == before
    library = make_library(library_settings(data_dir))
    result = library.search(MARKER + "是什么")
    assert result.index_version == before
    assert not any(MARKER in p.chunk.text for p in result.passages)
    assert library.search("淄博新基建计划的基本原则").passages

    rerun = subprocess.run(
        command, env=_env(data_dir, corpus), cwd=tmp_path, capture_output=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stdout[-1000:] + rerun.stderr[-1000:]
    after = _current(data_dir)
    assert after != before
    result = make_library(library_settings(data_dir)).search(MARKER + "第3项")
    assert result.index_version == after
    assert any(MARKER in p.chunk.text for p in result.passages)


# (b) -----------------------------------------------------------------------------------------------------------
def test_chroma_unreachable_degrades_then_recovers(built_library: PolicyLibrary, tmp_path: Path) -> None:
    data_dir = copy_index(built_library, tmp_path / "data")
    dead = make_library(library_settings(data_dir, chroma=("127.0.0.1", free_port())))
    result = dead.search("淄博新基建计划的基本原则有哪些")
    assert result.degraded and DEGRADED_NOTICE in result.notices
    assert result.passages, "BM25 still answers"

    settings = api_settings(data_dir, chroma_host="127.0.0.1", chroma_port=free_port())
    service = AssistantService.from_settings(settings, library=dead)
    with TestClient(create_app(service=service, settings=settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200  # the index is there; dense search is degraded, not down
        assert ready.json()["degraded"] is True and ready.json()["status"] == "degraded"
        answer = client.post("/v1/ask", json={"question": "淄博新基建计划的基本原则有哪些？"})
        assert answer.status_code == 200
        assert DEGRADED_NOTICE in answer.json()["notices"]

    live = make_library(library_settings(data_dir))  # pointed back at a working store
    result = live.search("淄博新基建计划的基本原则有哪些")
    assert not result.degraded and DEGRADED_NOTICE not in result.notices


# (c) -----------------------------------------------------------------------------------------------------------
UPLOAD = f"---\nid: reliability-upload-2026\ntitle: 可靠性测试文件\n---\n# 第一章\n{MARKER}要求在2026年建成三个试点。\n"


def _app(data_dir: Path) -> tuple[TestClient, AssistantService]:
    settings = api_settings(data_dir)
    service = AssistantService.from_settings(settings, library=make_library(settings))
    return TestClient(create_app(service=service, settings=settings)), service


def test_restart_keeps_sessions_feedback_and_uploads(built_library: PolicyLibrary, tmp_path: Path) -> None:
    data_dir = copy_index(built_library, tmp_path / "data")
    client, _ = _app(data_dir)
    with client:
        up = client.post(
            "/v1/documents", files={"file": ("r.md", UPLOAD.encode(), "text/markdown")}, headers=ADMIN
        )
        assert up.status_code == 201, up.text
        answer = client.post(
            "/v1/ask", json={"question": "淄博新基建计划的基本原则有哪些？", "session_id": "s-restart"}
        )
        assert answer.status_code == 200
        answer_id = answer.json()["answer_id"]
        fb = client.post("/v1/feedback", json={"answer_id": answer_id, "rating": "up", "comment": "keep"})
        assert fb.status_code == 201

    client, service = _app(data_dir)  # a new service and app over the same data dir
    with client:
        assert len(service.sessions.history("s-restart")) >= 1
        follow = client.post("/v1/ask", json={"question": "它的保障措施呢？", "session_id": "s-restart"})
        assert follow.status_code == 200 and follow.json()["standalone_question"] != "它的保障措施呢？"
        assert "reliability-upload-2026" in {d["doc_id"] for d in client.get("/v1/documents").json()}
        hits = client.get("/v1/search", params={"q": MARKER}).json()
        assert "reliability-upload-2026" in str(hits)
    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        rows = db.execute("SELECT answer_id, rating, comment FROM feedback").fetchall()
    assert (answer_id, "up", "keep") in rows


# (d) -----------------------------------------------------------------------------------------------------------
DURATION = 20.0


def test_concurrent_uploads_deletes_and_questions(built_library: PolicyLibrary, tmp_path: Path) -> None:
    data_dir = copy_index(built_library, tmp_path / "data")
    client, service = _app(data_dir)
    lock = threading.Lock()
    acknowledged: dict[str, str] = {}
    deleted: set[str] = set()
    statuses: list[tuple[str, int]] = []
    stop = time.monotonic() + DURATION

    def uploader(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            doc_id, word = f"conc-{n}-{i}", f"并发标记{n}x{i}号"
            body = (
                f"---\nid: {doc_id}\ntitle: 并发文件{n}-{i}\n---\n# 条款\n{word}：{MARKER}第{n}组第{i}份。\n"
            )
            r = client.post(
                "/v1/documents",
                files={"file": (f"{doc_id}.md", body.encode(), "text/markdown")},
                headers=ADMIN,
            )
            with lock:
                statuses.append(("upload", r.status_code))
                if r.status_code == 201:
                    acknowledged[doc_id] = word
            if i % 2 == 1:  # delete every second one
                r = client.delete(f"/v1/documents/{doc_id}", headers=ADMIN)
                with lock:
                    statuses.append(("delete", r.status_code))
                    if r.status_code == 200:
                        deleted.add(doc_id)
            i += 1

    def asker(_: int) -> None:
        while time.monotonic() < stop:
            r = client.post("/v1/ask", json={"question": "淄博新基建计划的基本原则有哪些？"})
            with lock:
                statuses.append(("ask", r.status_code))

    with client, ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda f: f[0](f[1]), [(uploader, 0), (uploader, 1), (asker, 0), (asker, 1)]))
        server_errors = [s for s in statuses if s[1] >= 500]
        assert not server_errors, server_errors
        listed = {d["doc_id"] for d in client.get("/v1/documents").json()}
    kept = {d: w for d, w in acknowledged.items() if d not in deleted}
    print(
        f"\nRELIABILITY-COUNTS uploads={len(acknowledged)} deleted={len(deleted)} kept={len(kept)} "
        f"asks={sum(1 for s in statuses if s[0] == 'ask')} requests={len(statuses)}"
    )
    assert acknowledged, "no upload was acknowledged in the time window"
    assert set(kept) <= listed and not (deleted & listed)
    for doc_id, word in kept.items():
        hits = service.library.search(word, k=10)
        assert doc_id in {p.chunk.doc_id for p in hits.passages}, doc_id


# (e) -----------------------------------------------------------------------------------------------------------
def _encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip_bomb_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", b"<w:document>" + b"A" * (50 * 2**20) + b"</w:document>")
    return out.getvalue()  # ~50 KB compressed, 50 MB declared uncompressed


ASK_CASES = [
    ("empty question", {"question": ""}),
    ("whitespace question", {"question": "   \n\t "}),
    ("100 KB question", {"question": "政策" * 51200}),
    ("control characters", {"question": "淄博\x00\x07\x1b[31m计划\x7f"}),
    ("emoji", {"question": "淄博计划🚀🔥有哪些原则？😀"}),
    ("HTML/script", {"question": "<script>alert(1)</script><img src=x onerror=alert(1)>"}),
    ("SQL-looking", {"question": "'; DROP TABLE feedback; -- 基本原则"}),
    ("wrong shape (list)", ["淄博"]),
    ("wrong type (int question)", {"question": 123}),
    ("wrong type (top_k string)", {"question": "淄博", "top_k": "many"}),
    ("missing field", {"q": "淄博"}),
]


@pytest.fixture(scope="module")
def bad_client(built_library: PolicyLibrary, tmp_path_factory: pytest.TempPathFactory):
    data_dir = copy_index(built_library, tmp_path_factory.mktemp("bad") / "data")
    client, _ = _app(data_dir)
    with client:
        yield client


def _ok_or_problem(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        assert response.json()["status"] == response.status_code
    else:
        assert "answer" in response.json()


@pytest.mark.parametrize(("case", "payload"), ASK_CASES, ids=[c for c, _ in ASK_CASES])
def test_bad_ask_inputs(bad_client: TestClient, case: str, payload: object) -> None:
    _ok_or_problem(bad_client.post("/v1/ask", json=payload))


# Valid JSON whose strings hold what UTF-8 cannot encode or what should never reach a store, sent as raw JSON
# text (an HTTP client's own JSON encoder refuses to encode a lone surrogate): (case, JSON string literal of the
# question, extra /v1/ask fields, expected status). Each goes to /v1/ask, its SSE form and /v1/chat/completions.
ASK_RAW_CASES = [
    ("lone surrogate in question", '"\\u65b0\\u57fa\\u5efa\\ud800"', "", 422),
    ("lone low surrogate in session id", '"\\u65b0"', ', "session_id": "\\udc00"', 422),
    ("NUL in question", '"\\u65b0\\u0000"', "", 422),
    ("NUL in filter", '"\\u65b0"', ', "filters": {"doc_id": "a\\u0000"}', 422),
    ("bidi override in question", '"\\u202e\\u65b0\\u57fa\\u5efa"', "", 422),
    ("mixed width and RTL mark", '"\\u200f\\u6dc4\\u535a\\uff12\\uff10\\uff12\\uff11 plan"', "", 200),
]


@pytest.mark.parametrize(
    ("case", "question", "extra", "status"), ASK_RAW_CASES, ids=[c[0] for c in ASK_RAW_CASES]
)
def test_bad_ask_raw_json(bad_client: TestClient, case: str, question: str, extra: str, status: int) -> None:
    ask = f'{{"question": {question}{extra}}}'
    chat = f'{{"messages": [{{"role": "user", "content": {question}}}]}}'
    for path, body, expected in [
        ("/v1/ask", ask, status),
        ("/v1/ask?stream=true", ask, status),
        ("/v1/chat/completions", chat, status if not extra else 200),
    ]:
        r = bad_client.post(path, content=body.encode(), headers={"content-type": "application/json"})
        assert r.status_code == expected, (path, r.status_code, r.text[:200])
        if r.status_code >= 400:
            _ok_or_problem(r)


def test_bad_ask_invalid_utf8(bad_client: TestClient) -> None:
    r = bad_client.post(
        "/v1/ask", content=b'{"question": "\xff\xfe\xc3"}', headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500
    _ok_or_problem(r)


def test_bad_ask_wrong_content_type(bad_client: TestClient) -> None:
    r = bad_client.post("/v1/ask", content="question=淄博".encode(), headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500
    _ok_or_problem(r)


UPLOAD_CASES = [
    ("pdf that is not a PDF", "fake.pdf", lambda: b"this is not a pdf at all", "application/pdf"),
    ("encrypted PDF", "enc.pdf", _encrypted_pdf, "application/pdf"),
    ("zip-bomb-like docx", "bomb.docx", _zip_bomb_docx, "application/octet-stream"),
    ("path-traversal name", "../../etc/passwd", lambda: b"root:x:0:0", "text/plain"),
    ("path-traversal md name", "../../evil.md", lambda: UPLOAD.encode(), "text/markdown"),
]


@pytest.mark.parametrize(("case", "name", "make", "ctype"), UPLOAD_CASES, ids=[c[0] for c in UPLOAD_CASES])
def test_bad_uploads(bad_client: TestClient, case: str, name: str, make, ctype: str) -> None:  # type: ignore[no-untyped-def]
    r = bad_client.post("/v1/documents", files={"file": (name, make(), ctype)}, headers=ADMIN)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    _ok_or_problem(r)


@pytest.mark.parametrize("doc_id", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%00"])
def test_path_traversal_document_id(bad_client: TestClient, doc_id: str) -> None:
    for r in (
        bad_client.get(f"/v1/documents/{doc_id}"),
        bad_client.delete(f"/v1/documents/{doc_id}", headers=ADMIN),
    ):
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
