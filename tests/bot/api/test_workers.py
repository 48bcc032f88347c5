"""`policybot serve --workers 2` as a real subprocess: concurrent questions with session follow-ups and
feedback, written by two worker processes into the same SQLite files (WAL), all of them kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from evals.bench.server import ServerNotReady, start_server
from retrieval.library import PolicyLibrary
from tests.bot.api.live import copy_index
from tests.conftest import CORPUS_DIR

THREADS = 8
TURNS = [  # one conversation per thread: a question and follow-ups that need the session
    "淄博新基建计划的基本原则有哪些？",
    "它的保障措施呢？",
    "计划要发挥哪类基础设施的共性支撑作用？",
    "第一条具体说了什么？",
    "红烧肉怎么做",
]
TOTAL = THREADS * len(TURNS)
START_TIMEOUT = 120.0


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []


@pytest.fixture
def server(built_library: PolicyLibrary, tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    data_dir = copy_index(built_library, tmp_path / "data")  # index built before the start
    try:
        started = start_server(
            data_dir, tmp_path, corpus_dir=CORPUS_DIR, timeout=START_TIMEOUT, poll_ready=0.1, poll_waiting=0.5
        )
    except ServerNotReady as exc:
        pytest.fail(str(exc))
    try:
        yield started.url, data_dir, started.pid
    finally:
        started.stop()


def conversation(url: str, n: int) -> list[dict]:
    session_id = f"worker-test-{n}"
    results = []
    # a new connection per request, so the kernel may hand each one to either worker
    for i, question in enumerate(TURNS):
        response = httpx.post(
            f"{url}/v1/ask", json={"question": question, "session_id": session_id}, timeout=120
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["session_id"] == session_id
        rating = "up" if (n + i) % 2 == 0 else "down"
        feedback = httpx.post(
            f"{url}/v1/feedback",
            json={"answer_id": answer["answer_id"], "rating": rating, "comment": f"{n}-{i}"},
            timeout=60,
        )
        assert feedback.status_code == 201, feedback.text
        results.append(answer)
    return results


@pytest.mark.slow
def test_two_workers_share_sessions_and_feedback(server: tuple[str, Path, int]) -> None:
    url, data_dir, pid = server
    assert len(_children(pid)) >= 2, "expected two uvicorn worker processes"

    with ThreadPoolExecutor(THREADS) as pool:
        conversations = list(pool.map(lambda n: conversation(url, n), range(THREADS)))

    answers = [a for conv in conversations for a in conv]
    assert len(answers) == TOTAL
    assert len({a["answer_id"] for a in answers}) == TOTAL
    for conv in conversations:
        # the follow-up was resolved with the session's history, whichever worker stored it
        assert not conv[1]["refused"], conv[1]
        assert conv[1]["standalone_question"] != TURNS[1]
        assert {c["doc_id"] for c in conv[1]["citations"]} == {"zibo-new-infra-2021"}
        assert conv[4]["refused"]

    with sqlite3.connect(data_dir / "sessions.sqlite3") as db:
        per_session = dict(db.execute("SELECT session_id, COUNT(*) FROM turns GROUP BY session_id"))
    assert per_session == {f"worker-test-{n}": len(TURNS) for n in range(THREADS)}

    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        feedback = db.execute("SELECT answer_id, rating, comment FROM feedback").fetchall()
        logged = {row[0] for row in db.execute("SELECT answer_id FROM answers")}
    assert len(feedback) == TOTAL
    assert {row[0] for row in feedback} == {a["answer_id"] for a in answers} == logged
    assert sorted(row[2] for row in feedback) == sorted(f"{n}-{i}" for n in range(THREADS) for i in range(5))

    # each worker counts its own requests: distinct /metrics readings of the ask counter are the
    # per-worker shares and add up to the total when both have been seen
    seen: set[float] = set()
    for _ in range(30):
        text = httpx.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=10).text
        for line in text.splitlines():
            if line.startswith('policybot_http_requests_total{method="POST",route="/v1/ask",status="200"}'):
                seen.add(float(line.rsplit(" ", 1)[1]))
        if len(seen) >= 2:
            break
    assert seen and max(seen) <= TOTAL
    if len(seen) == 2:
        assert sum(seen) == TOTAL, seen
