"""Property-based API test: schemathesis generates requests from the app's own OpenAPI schema and sends
them to a real uvicorn server; no generated input may produce a 5xx.

The server runs over a private copy of the built index with the admin key presented, so uploads and
deletes are exercised too without touching the index other tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from bot.api.app import create_app
from bot.service import AssistantService
from retrieval.library import PolicyLibrary
from tests.bot.api.conftest import ADMIN_KEY, api_settings
from tests.bot.api.live import copy_index, live_server
from tests.conftest import free_port

MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def fuzz_server(built_library: PolicyLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = copy_index(built_library, tmp_path_factory.mktemp("fuzz") / "data")
    fuzz_settings = api_settings(data_dir)
    service = AssistantService.from_settings(fuzz_settings)
    with live_server(create_app(service=service, settings=fuzz_settings), free_port()) as url:
        yield url


def _spec() -> dict:
    """The OpenAPI document, generated in-process at collection (no server, no index needed); the
    test asserts the running server serves the same one. (schemathesis.pytest.from_fixture does not
    work with pytest 9, so the schema is loaded eagerly.)"""
    return create_app(service=None, settings=api_settings(Path("unused"))).openapi()


SPEC = _spec()
schema = schemathesis.openapi.from_dict(SPEC)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_server_error(case, fuzz_server: str) -> None:
    response = case.call(base_url=fuzz_server, headers={"X-Admin-Key": ADMIN_KEY}, timeout=120)
    case.validate_response(response, checks=[not_a_server_error])


def test_every_operation_documented(fuzz_server: str) -> None:
    """Every route has a response model and examples for its inputs and its success response."""
    import httpx

    spec = httpx.get(f"{fuzz_server}/openapi.json").json()
    assert spec == SPEC
    missing = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            label = f"{method.upper()} {path}"
            ok = [code for code in op["responses"] if code.startswith("2")]
            if not ok:
                missing.append(f"{label}: no 2xx response")
                continue
            content = op["responses"][ok[0]].get("content", {})
            if not any("schema" in c or "example" in c or "examples" in c for c in content.values()):
                missing.append(f"{label}: 2xx response has no schema")
            if not any(
                "example" in c or "examples" in c or _schema_has_examples(spec, c.get("schema"))
                for c in content.values()
            ):
                missing.append(f"{label}: 2xx response has no example")
            for param in op.get("parameters", []):
                if not ("example" in param or "examples" in param or "examples" in param.get("schema", {})):
                    missing.append(f"{label}: parameter {param['name']} has no example")
            body = op.get("requestBody")
            if body:
                for media, c in body["content"].items():
                    if not ("example" in c or "examples" in c or _schema_has_examples(spec, c.get("schema"))):
                        missing.append(f"{label}: request body {media} has no example")
    assert not missing, "\n".join(missing)


def _schema_has_examples(spec: dict, schema: dict | None) -> bool:
    if not schema:
        return False
    if "examples" in schema or "example" in schema:
        return True
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _schema_has_examples(spec, spec["components"]["schemas"].get(name))
    if schema.get("type") == "array":
        return _schema_has_examples(spec, schema.get("items"))
    return False


def test_fuzzing_reached_the_server(fuzz_server: str) -> None:
    """Runs after the fuzz test (file order): the generated requests really arrived, none was a 5xx."""
    import httpx

    text = httpx.get(f"{fuzz_server}/metrics").text
    counts = [
        (line.split("{", 1)[1].split("}", 1)[0], float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("policybot_http_requests_total{")
    ]
    assert not [labels for labels, _ in counts if 'status="5' in labels]
    if len(counts) > 2:  # the fuzz test ran in this session (not deselected)
        assert sum(n for _, n in counts) >= 100
