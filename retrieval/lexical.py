"""BM25 over jieba tokens of normalised text, with a policy-term dictionary and synonyms."""

from __future__ import annotations

import hashlib
import marshal
import math
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import bm25s
import jieba
import jieba.posseg
import numpy as np

from retrieval import bilingual
from retrieval.cache import user_cache_dir, write_atomically
from retrieval.normalize import normalize_for_matching


def _load_synonyms(text: str) -> dict[str, tuple[str, ...]]:
    """`a = b = c` groups (each word matches the others) and `a -> b c` one-way expansions."""
    found: dict[str, list[str]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip().lower()
        if not line:
            continue
        if "->" in line:
            head, _, tail = line.partition("->")
            pairs = [(head.strip(), word) for word in tail.split()]
        elif "=" in line:
            words = [w.strip() for w in line.split("=")]
            pairs = [(a, b) for a in words for b in words if a != b]
        else:
            raise ValueError(f"synonyms.txt line {number}: expected 'a = b' or 'a -> b c': {raw!r}")
        for word, alternative in pairs:
            if not word or not alternative:
                raise ValueError(f"synonyms.txt line {number}: empty word: {raw!r}")
            alternatives = found.setdefault(word, [])
            if alternative not in alternatives:
                alternatives.append(alternative)
    return {word: tuple(alternatives) for word, alternatives in found.items()}


SYNONYMS_FILE = Path(str(resources.files("retrieval").joinpath("data/synonyms.txt")))
SYNONYMS: dict[str, tuple[str, ...]] = _load_synonyms(SYNONYMS_FILE.read_text(encoding="utf-8"))
_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "等",
        "在",
        "是",
        "有",
        "对",
        "为",
        "将",
        "把",
        "被",
        "中",
        "上",
        "下",
        "里",
        "个",
        "这",
        "那",
        "哪",
        "些",
        "吗",
        "呢",
        "啊",
        "吧",
        "么",
        "什么",
        "怎么",
        "如何",
        "哪些",
        "多少",
        "请问",
        "我们",
        "你们",
        "他们",
        "我",
        "你",
        "它",
        "其",
        "之",
        "以",
        "于",
        "由",
        "从",
        "到",
        "并",
        "也",
        "都",
        "就",
        "又",
        "还",
        "要",
        "会",
        "能",
        "可以",
        "一下",
        "一个",
        "关于",
        "方面",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "what",
        "which",
        "how",
        "does",
        "do",
        "did",
    ]
)
_TOKEN_OK = re.compile(r"[0-9a-z\u4e00-\u9fff]")
_jieba_lock = threading.Lock()


@lru_cache(maxsize=1)
def _glossary() -> list[tuple[re.Pattern[str], str]]:
    text = resources.files("retrieval").joinpath("data/glossary_en_zh.txt").read_text(encoding="utf-8")
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, chinese = line.split("\t", 1)
        entries.append(
            (re.compile(rf"(?<![a-z0-9]){re.escape(english.strip())}(?![a-z0-9])"), chinese.strip())
        )
    return sorted(entries, key=lambda e: -len(e[0].pattern))


def _english_terms(normalized: str) -> str:
    """Chinese equivalents of the English policy terms in a (mixed-language) text."""
    if not re.search(r"[a-z]{3}", normalized):
        return ""
    found = []
    for pattern, chinese in _glossary():
        if pattern.search(normalized):
            found.append(chinese)
            normalized = pattern.sub(" ", normalized)
    return " ".join(found)


POLICY_TERMS = Path(str(resources.files("retrieval").joinpath("data/policy_terms.txt")))


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    """jieba with the policy terms and the synonym words added. Its prefix dictionary (half a million entries) is kept in a
    cache file read in one piece: jieba's own cache reader takes seconds of every start-up."""
    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    cache = _prefix_cache_file()
    try:
        tokenizer.FREQ, tokenizer.total, tokenizer.user_word_tag_tab = marshal.loads(cache.read_bytes())
        tokenizer.initialized = True
        return tokenizer
    except (OSError, ValueError, EOFError, TypeError):
        pass  # no cache yet, or an unreadable one: build and write it
    with POLICY_TERMS.open("r", encoding="utf-8") as terms:
        tokenizer.load_userdict(terms)
    for word in SYNONYMS:
        # a synonym applies to a token: "老基建" must stay one word to match "传统基础设施"
        if len(word) > 1 and not word.isascii() and not tokenizer.FREQ.get(word):
            tokenizer.add_word(word)
    tokenizer.initialize()
    write_atomically(cache, marshal.dumps((tokenizer.FREQ, tokenizer.total, tokenizer.user_word_tag_tab)))
    return tokenizer


def _prefix_cache_file() -> Path:
    """A per-user cache file named after what it is built from (jieba's version and dictionary, our terms)."""
    key = hashlib.sha256()
    key.update(jieba.__version__.encode())
    dictionary = Path(jieba.__file__).with_name("dict.txt")
    key.update(str(dictionary.stat().st_size).encode() + str(dictionary.stat().st_mtime_ns).encode())
    key.update(POLICY_TERMS.read_bytes())
    key.update(SYNONYMS_FILE.read_bytes())
    return user_cache_dir() / f"jieba-{key.hexdigest()[:16]}.marshal"


def warm_up() -> None:
    with _jieba_lock:
        _tokenizer()
    _glossary()
    bilingual.warm_up()


def words(text: str) -> list[str]:
    """The words of a text as jieba reads it (precise mode, policy terms included), not normalised."""
    with _jieba_lock:
        return [w for w in _tokenizer().cut(text) if w.strip()]


# how rare a word is in general Chinese, from the frequencies of jieba's dictionary (a general corpus, not this
# library): at or below EVERYDAY_IDF a word is an everyday one ("安排", "希望"), from RARE_IDF on a rare or unlisted
# one ("用能", "区块链")
EVERYDAY_IDF = 8.0
RARE_IDF = 12.0
MIN_RARITY = 0.5


@lru_cache(maxsize=65536)
def general_rarity(word: str) -> float:
    """Between MIN_RARITY (an everyday word of the language) and 1 (a word the dictionary rarely sees or lacks)."""
    with _jieba_lock:
        tokenizer = _tokenizer()
        frequency, total = tokenizer.FREQ.get(word, 0), tokenizer.total
    idf = math.log(total / (frequency + 1))
    return min(1.0, max(MIN_RARITY, (idf - EVERYDAY_IDF) / (RARE_IDF - EVERYDAY_IDF)))


@lru_cache(maxsize=1)
def _tagger() -> jieba.posseg.POSTokenizer:
    """jieba's part-of-speech tagger over the policy tokenizer (word classes from jieba's dictionary)."""
    return jieba.posseg.POSTokenizer(_tokenizer())


@lru_cache(maxsize=65536)
def word_class(word: str) -> str:
    """The part of speech jieba's dictionary gives a word ("n" noun, "ns" place, "v" verb, "vn" verbal noun…);
    for a text it reads as several words, the last one's; "eng" for a code in Latin letters and digits ("5G")."""
    if word.isascii() and word.isalnum():
        return "eng"
    with _jieba_lock:
        tagged = list(_tagger().cut(word))
    return tagged[-1].flag if tagged else "x"


def search_words(text: str) -> list[str]:
    """Every word jieba finds in a text, the shorter words inside long ones included (江苏省人民政府 →
    江苏, 江苏省, 人民, 政府, …), plus the Chinese glossary terms of its English words; not normalised."""
    with _jieba_lock:
        words = [w for w in _tokenizer().cut_for_search(text) if w.strip()]
    return words + english_terms(text).split()


def english_terms(text: str) -> str:
    """The Chinese glossary terms of the English policy words in a text, space-separated."""
    return _english_terms(normalize_for_matching(text))


def tokenize(text: str, expand: bool = True, search_mode: bool = True) -> list[str]:
    """jieba tokens of the normalised text, stop words dropped, synonyms added (when `expand`).

    Search mode (for indexing and BM25 queries) adds the shorter words inside long ones; precise mode
    (`search_mode=False`) gives one reading of the text, used to find a question's content words."""
    normalized = normalize_for_matching(text)
    normalized = f"{normalized} {_english_terms(normalized)}"
    with _jieba_lock:
        tokenizer = _tokenizer()
        raw = list(tokenizer.cut_for_search(normalized) if search_mode else tokenizer.cut(normalized))
    tokens: list[str] = []
    for token in raw:
        token = token.strip()
        if not token or token in _STOPWORDS or not _TOKEN_OK.search(token):
            continue
        tokens.append(token)
        if expand:
            tokens.extend(SYNONYMS.get(token, ()))
    return tokens


class BM25Index:
    """An in-memory BM25 (bm25s, Lucene variant) over a fixed list of texts; rebuilt per index version."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        corpus_tokens = [tokenize(t) or ["∅"] for t in texts]
        self._vocab = {token for tokens in corpus_tokens for token in tokens}
        if self.size:
            self._bm25.index(corpus_tokens, show_progress=False)

    @property
    def vocabulary(self) -> set[str]:
        return self._vocab

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for the query (zeros for an empty index or a query with no known term)."""
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if not self.size or not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
