"""Fixtures for the eval-product tests: a fixed-clock extractive service over the shared library, and small
subsets of the shipped datasets (the full suites run in test_qa_regression / test_retrieval_eval and in
`make test`'s `policybot eval --compare`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from evals.datasets import QA_DATASET, RETRIEVAL_DATASET, iter_lines
from retrieval.library import PolicyLibrary


def make_service(library: Any, tmp: Path) -> AssistantService:
    return AssistantService(
        library, SqlSessionStore(tmp / "sessions.sqlite3"), clock=lambda: dt.date(2026, 11, 29)
    )


def _pick(path: Path, ids: list[str]) -> list[str]:
    lines = {json.loads(line)["id"]: line for _, line in iter_lines(path)}
    return [lines[i] for i in ids if i in lines]


@pytest.fixture(scope="session")
def subset_datasets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(qa subset, retrieval subset): single questions of several types, unanswerable ones, multi-turn."""
    out = tmp_path_factory.mktemp("eval-subset")
    rows = [json.loads(line) for _, line in iter_lines(QA_DATASET)]
    picked: list[dict[str, Any]] = []
    for kind in ("factual", "list", "metadata", "cross_document", "unanswerable", "out_of_scope"):
        picked += [r for r in rows if r["type"] == kind and not r.get("turns")][:2]
    picked += [r for r in rows if r.get("turns")][:2]
    qa = out / "qa.jsonl"
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in picked), encoding="utf-8")
    retrieval_rows = [json.loads(line) for _, line in iter_lines(RETRIEVAL_DATASET)]
    chosen: list[dict[str, Any]] = []
    for kind in sorted({r["type"] for r in retrieval_rows}):
        chosen += [r for r in retrieval_rows if r["type"] == kind][:2]
    retrieval = out / "retrieval.jsonl"
    retrieval.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen), encoding="utf-8")
    return qa, retrieval


@pytest.fixture
def eval_service(built_library: PolicyLibrary, tmp_path: Path) -> AssistantService:
    return make_service(built_library, tmp_path)
