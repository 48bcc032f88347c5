"""Property-based API test: schemathesis generates requests from the app's own OpenAPI schema and sends
them to a real uvicorn server; no generated input may produce a 5xx.

The server runs over a private copy of the built index with the admin key presented, so uploads and
deletes are exercised too without touching the index other tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
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

# Text a schema-valid generator never produces but a client can send: lone UTF-16 surrogates (valid JSON escapes),
# NUL and other control characters, bidi controls, and the ordinary-but-unusual (a right-to-left mark, full-width
# letters, traditional characters). One of them is appended to one string of a generated JSON body or query.
# Surrogates go only into JSON bodies: a URL or a multipart part must be UTF-8, so a client cannot send them there.
SURROGATES = ("\ud800", "\udfff")
HOSTILE_TEXT = ("\x00", "\x07", "\x1b[31m", "\x85", "\u202e", "\u2067", "\u200f", "ＡＢＣ１２３", "計劃")


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_paths(item, (*path, index))


def _appended(value: Any, path: tuple[Any, ...], piece: str) -> Any:
    if not path:
        return value + piece
    head, *rest = path
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[head] = _appended(value[head], tuple(rest), piece)
    return copy


def _with_hostile_text(value: Any, pieces: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """The generated value itself, or the value with one hostile piece appended to one of its strings."""
    paths = list(_string_paths(value))
    if not paths:
        return st.just(value)
    hostile = st.tuples(st.sampled_from(paths), st.sampled_from(pieces)).map(lambda c: _appended(value, *c))
    return st.one_of(st.just(value), hostile)


@schema.hook
def flatmap_body(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
    is_json = isinstance(body, dict | list) and not (isinstance(body, dict) and "file" in body)
    return _with_hostile_text(body, HOSTILE_TEXT + SURROGATES if is_json else HOSTILE_TEXT)


@schema.hook
def flatmap_query(ctx: Any, query: Any) -> st.SearchStrategy[Any]:
    return _with_hostile_text(query, HOSTILE_TEXT) if query else st.just(query)


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
