"""The jieba prefix dictionary is cached per user, and the cached tokenizer cuts exactly like a fresh one."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import lexical

TEXT = "淄博市新型基础设施建设三年行动计划要建设5G基站、工业互联网和智能计算中心"


@pytest.fixture
def fresh_tokenizer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    lexical._tokenizer.cache_clear()
    yield tmp_path
    lexical._tokenizer.cache_clear()


def test_prefix_dictionary_cache(fresh_tokenizer: Path) -> None:
    built = lexical.words(TEXT)
    files = list((fresh_tokenizer / "policybot").glob("jieba-*.marshal"))
    assert len(files) == 1
    lexical._tokenizer.cache_clear()
    assert lexical.words(TEXT) == built  # read back from the file
    assert "5G基站" in built and "工业互联网" in built  # the policy terms are in the cached dictionary


def test_corrupt_cache_is_rebuilt(fresh_tokenizer: Path) -> None:
    lexical.words(TEXT)
    (cache,) = (fresh_tokenizer / "policybot").glob("jieba-*.marshal")
    cache.write_bytes(b"\x00garbage")
    lexical._tokenizer.cache_clear()
    assert "工业互联网" in lexical.words(TEXT)
    assert cache.stat().st_size > 1_000_000


def test_unwritable_cache_directory(fresh_tokenizer: Path) -> None:
    (fresh_tokenizer / "policybot").write_text("a file where the directory should be")
    assert "工业互联网" in lexical.words(TEXT)


def test_synonym_file_format() -> None:
    table = lexical._load_synonyms("# comment\n储能 = 蓄能\n电费 = 电价 = 用电价格\n补贴 -> 资金 奖励\n")
    assert table["储能"] == ("蓄能",) and table["蓄能"] == ("储能",)
    assert table["电价"] == ("电费", "用电价格")
    assert table["补贴"] == ("资金", "奖励") and "资金" not in table  # one way only
    with pytest.raises(ValueError, match="line 1"):
        lexical._load_synonyms("just words\n")
    with pytest.raises(ValueError, match="empty word"):
        lexical._load_synonyms("a = \n")


def test_synonyms_reach_bm25_and_sentence_matching() -> None:
    assert "蓄能" in lexical.tokenize("储能装置")
    from bot.evidence import coverage

    assert coverage({"储能": 1.0}, "对采用蓄能设备的5G,进一步降低低谷时段用电价格") == 1.0
    assert coverage({"四强产业": 1.0}, "“四强”产业") == 1.0  # quotation marks do not split a term


def test_a_synonym_stays_one_word_so_that_it_applies() -> None:
    # jieba alone cuts 老基建 into 老 / 基建 and 微机电系统 into three words: the synonym would never fire
    assert lexical.tokenize("老基建怎么办", search_mode=False)[:2] == ["老基建", "传统基础设施"]
    assert "mems" in lexical.tokenize("微机电系统研发平台", search_mode=False)


@pytest.mark.parametrize(
    ("everyday", "rare"),
    [("安排", "用能"), ("希望", "区块链"), ("处于", "氢能"), ("准备", "能效")],
)
def test_everyday_words_are_less_rare_than_field_words(everyday: str, rare: str) -> None:
    # the frequencies are jieba's dictionary's (a general corpus), not this library's
    assert lexical.general_rarity(everyday) == lexical.MIN_RARITY
    assert lexical.general_rarity(rare) > 0.8
    assert lexical.MIN_RARITY <= lexical.general_rarity("定位") <= 1.0
