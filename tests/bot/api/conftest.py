"""API fixtures: one AssistantService over the session's real built library, one TestClient app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from bot.config import Settings
from bot.service import AssistantService
from retrieval.library import PolicyLibrary
from tests.conftest import CORPUS_DIR

ADMIN_KEY = "admin-secret-for-tests"


def api_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "corpus_dir": CORPUS_DIR,
        "admin_key": ADMIN_KEY,
        "rate_limit_per_minute": 0,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def api_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="session")
def service(built_library: PolicyLibrary, api_data_dir: Path) -> AssistantService:
    return AssistantService.from_settings(api_settings(api_data_dir), library=built_library)


@pytest.fixture(scope="session")
def client(service: AssistantService, api_data_dir: Path) -> Iterator[TestClient]:
    app = create_app(service=service, settings=api_settings(api_data_dir))
    with TestClient(app) as test_client:
        yield test_client
