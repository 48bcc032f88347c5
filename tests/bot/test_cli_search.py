"""`policybot index` and `policybot search` end to end, through bot.cli.main."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import get_settings
from tests.conftest import CORPUS_DIR, ZIBO

ZIBO_PIONEER = "三、行动目标 › 打造山东新一代信息基础设施先行区"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("POLICYBOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("POLICYBOT_CORPUS_DIR", str(CORPUS_DIR))
    for name in ("POLICYBOT_CHROMA_HOST", "CHROMA_HOST", "POLICYBOT_EMBEDDING_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env or relative paths from the repository
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


def test_index_then_search_json(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index"]) == 0
    out = capsys.readouterr().out
    assert "published" in out and "added 3" in out
    assert (cli_env / "index" / "CURRENT").is_file()

    assert main(["index", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["published"] is False
    assert report["embedded_chunks"] == 0
    assert len(report["unchanged"]) == 3 and report["errors"] == []

    assert main(["search", "量子通信有什么安排", "--json"]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert isinstance(passages, list) and 0 < len(passages) <= 5
    for passage in passages:
        assert set(passage) == {"doc_id", "title", "doc_number", "section_path", "text", "score"}
        assert isinstance(passage["score"], float)
    first = passages[0]
    assert first["doc_id"] == ZIBO
    assert first["section_path"] == ZIBO_PIONEER
    assert first["doc_number"] == "淄政办字〔2021〕78号"
    assert first["title"] == "淄博市新型基础设施建设三年行动计划(2021-2023年)"
    assert "量子通信" in first["text"]

    assert main(["search", "5G基站", "--json", "-k", "3", "--doc", "shandong-new-infra-2020"]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert len(passages) == 3
    assert {p["doc_id"] for p in passages} == {"shandong-new-infra-2020"}

    assert main(["search", "量子通信有什么安排", "--method", "bm25"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(
        "[1] 淄博市新型基础设施建设三年行动计划(2021-2023年) 淄政办字〔2021〕78号 · " + ZIBO_PIONEER
    )


@pytest.mark.parametrize("query", ["", "   ", "\u3000\n"])
def test_empty_query_is_a_usage_error(cli_env: Path, capsys: pytest.CaptureFixture[str], query: str) -> None:
    assert main(["search", query, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "query is empty" in captured.err
    assert not (cli_env / "index").exists(), "nothing was built for an empty query"


def test_bad_arguments_exit_with_code_2(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["search", "5G", "-k", "0"])
    assert excinfo.value.code == 2
    assert "-k" in capsys.readouterr().err
