from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from retrieval.library import PolicyLibrary


@pytest.fixture
def service(built_library: PolicyLibrary, tmp_path: Path) -> AssistantService:
    """The extractive default over the real corpus, with its own session store and a fixed clock."""
    return AssistantService(
        built_library,
        SqlSessionStore(tmp_path / "sessions.sqlite3"),
        clock=lambda: dt.date(2026, 11, 29),
    )
