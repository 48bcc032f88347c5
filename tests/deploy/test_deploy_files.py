"""The container deployment files agree with each other and with the code (Docker is not available on these
machines to build them): the Dockerfile runs `policybot serve` as a non-root user with a /readyz health check,
compose has two API replicas behind nginx with PostgreSQL, Redis and Chroma, nginx.conf names every replica,
and every setting compose passes exists. hadolint lints the Dockerfile where it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config import Settings

REPO = Path(__file__).resolve().parents[2]


def test_dockerfile_is_multi_stage_non_root_with_a_readiness_check() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert "/readyz" in text and "HEALTHCHECK" in text
    assert 'ENTRYPOINT ["policybot", "serve"]' in text
    assert "-c requirements.lock" in text  # the pinned versions, like `make install`


def test_compose_runs_two_replicas_behind_nginx() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"api1", "api2", "nginx", "postgres", "redis", "chroma"} <= set(services)
    nginx = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert set(re.findall(r"server (api\d):8000", nginx)) == {"api1", "api2"}
    known = {f"POLICYBOT_{name.upper()}" for name in Settings.model_fields} | {"CHROMA_HOST", "CHROMA_PORT"}
    for name in ("api1", "api2"):
        environment = services[name]["environment"]
        assert environment["POLICYBOT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert environment["POLICYBOT_REDIS_URL"].startswith("redis://")
        assert {k for k in environment if k != "FORWARDED_ALLOW_IPS"} <= known
        assert services[name]["volumes"] != services["api2" if name == "api1" else "api1"]["volumes"]


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint not installed")
def test_hadolint_passes() -> None:
    done = subprocess.run(["hadolint", str(REPO / "Dockerfile")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
