"""The QA regression gate for the extractive default.

The floors below are the scores measured when this gate was last raised (see README, "Measured"); they stop
any change from making answers worse. All meet the issue's targets (accuracy 0.90, refusal precision and
recall 0.95, citation precision 0.95, numeric faithfulness 1.0)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from evals.qa_eval import evaluate_qa, summarize
from retrieval.library import PolicyLibrary

FLOORS = {
    "accuracy": 0.96,
    "refusal_precision": 0.95,
    "refusal_recall": 0.99,
    "citation_precision": 0.95,
    "numeric_faithfulness": 1.0,
}


@pytest.fixture(scope="module")
def qa_summary(built_library: PolicyLibrary, tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    sessions = SqlSessionStore(Path(tmp_path_factory.mktemp("qa")) / "sessions.sqlite3")
    service = AssistantService(built_library, sessions, clock=lambda: dt.date(2026, 11, 29))
    return summarize(evaluate_qa(service, show_progress=False))


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_extractive_default_holds_its_floor(qa_summary: dict[str, float], metric: str) -> None:
    assert qa_summary[metric] >= FLOORS[metric], f"{metric} fell to {qa_summary[metric]:.3f}"


def test_scoring_is_deterministic(
    built_library: PolicyLibrary, tmp_path: Path, qa_summary: dict[str, float]
) -> None:
    service = AssistantService(
        built_library, SqlSessionStore(tmp_path / "s.db"), clock=lambda: dt.date(2026, 11, 29)
    )
    again = summarize(evaluate_qa(service, show_progress=False))
    assert {k: again[k] for k in FLOORS} == {k: qa_summary[k] for k in FLOORS}
