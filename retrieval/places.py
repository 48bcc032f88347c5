"""Place names and issuing levels, read from text with jieba's own gazetteer (the words its dictionary tags `ns`).

Nothing here knows the library: a document's places come from its issuer and title (or its front matter), and a
question's places are matched against the places the library's documents declare."""

from __future__ import annotations

import hashlib
import marshal
import re
from functools import lru_cache
from pathlib import Path

from retrieval import lexical
from retrieval.bilingual import dictionary_path, headwords, is_english
from retrieval.cache import user_cache_dir, write_atomically
from retrieval.normalize import compact, to_simplified

# administrative suffixes: "苏州市" and "苏州" are the same place
_SUFFIX = re.compile(r"(?:特别行政区|自治区|自治州|自治县|地区|省|市|县|区|盟|州|旗)$")
# words the gazetteer tags as places that name no particular place
NOT_PLACES = frozenset(
    [
        "新建",
        "东西",
        "东部",
        "西部",
        "南部",
        "北部",
        "中部",
        "南北",
        "城乡",
        "全国",
        "国内",
        "国外",
        "海外",
        "本地",
        "当地",
        "各地",
        "全省",
        "全市",
        "省内",
        "市内",
        "园区",
        "城区",
        "中华",
        "中华人民共和国",
        "人民共和国",
        "共和国",
        "中国",
        "我国",
        "城市",
        "大城市",
        "小城市",
        "中小城市",
        "中心城市",
        "城镇",
        "农村",
        "乡村",
        "地方",
        "沿海",
        "内地",
        "边境",
        "山区",
        "县城",
        "市区",
        "郊区",
    ]
)
NATIONAL = "national"
PROVINCE = "province"
CITY = "city"
COUNTY = "county"
LEVELS = (NATIONAL, PROVINCE, CITY, COUNTY)
# organs whose name says their level without a place name
_NATIONAL_ISSUER = re.compile(
    r"^(?:国务院|中共中央|全国人民代表大会|全国人大|最高人民法院|最高人民检察院|国家|中华人民共和国|"
    r"(?:工业和信息化|财政|商务|教育|科学技术|自然资源|生态环境|住房和城乡建设|交通运输|水利|农业农村|"
    r"文化和旅游|国家卫生健康|人力资源和社会保障|民政|司法|公安)部)"
)
# a question's words for "this level's documents" when it names no place
SCOPE_WORDS: dict[str, tuple[str, ...]] = {
    PROVINCE: ("全省", "省里", "省政府", "省级", "省委", "本省", "省内", "the province", "provincial"),
    CITY: ("全市", "市里", "市政府", "市级", "市委", "本市", "市内", "the city", "municipal"),
    NATIONAL: ("国家层面", "国务院", "全国性", "national", "state council"),
}


@lru_cache(maxsize=1)
def gazetteer() -> frozenset[str]:
    """Every word jieba's dictionary (and the policy dictionary beside the tokenizer) tags as a place."""
    import jieba

    found: set[str] = set()
    for path in (Path(jieba.__file__).with_name("dict.txt"), lexical.POLICY_TERMS):
        found.update(_NS_ENTRY.findall(path.read_text(encoding="utf-8")))
    return frozenset(found - NOT_PLACES)


_NS_ENTRY = re.compile(r"^(\S+) \d+ ns\w*$", re.MULTILINE)


def canonical_place(name: str) -> str:
    """A place without its administrative suffix (苏州市 → 苏州, 江苏省 → 江苏), simplified and width-folded."""
    name = compact(to_simplified(name))
    stripped = _SUFFIX.sub("", name)
    return stripped if len(stripped) >= 2 else name


def place_names(text: str, *, inside_words: bool = False) -> list[str]:
    """The place names a text mentions (two or more characters, as written, in order, without repeats).

    jieba's reading of the text decides what is a word, so "新建" in "新建5G基站" is the verb, not the county;
    `inside_words` also looks inside long words (江苏省人民政府 → 江苏省), for issuers and titles."""
    places = gazetteer()
    simplified = to_simplified(text)
    words = (
        lexical.search_words(simplified)
        if inside_words
        else lexical.words(simplified) + _glossary(simplified)
    )
    found = [
        w
        for w in dict.fromkeys(words)
        if len(w) >= 2 and w in places and _administrative(w, simplified, places)
    ]
    # the longest reading of each place: 苏州市 rather than 苏州 inside it
    return [w for w in found if not any(w != other and w in other for other in found)]


_ADMIN_SUFFIXES = ("市", "省", "县", "区", "自治区", "自治州")


# a capitalised English word (with its possessive): the form an English text gives a place's name
_PROPER_NAME = re.compile(r"\b([A-Z][a-z]{2,})(?:['’]s)?\b")
_PINYIN = re.compile(r"\[([^\]]+)\]")


@lru_cache(maxsize=1)
def romanised_places() -> dict[str, tuple[str, ...]]:
    """Administrative places of the gazetteer by their romanised names: the toneless pinyin the bilingual
    dictionary (CC-CEDICT) gives each ("suzhou" → 苏州, 宿州, 肃州; "zibo" → 淄博)."""
    source = dictionary_path()
    if source is None:
        return {}
    import jieba

    # what the table is read from names its cache file (reading the dictionary takes about 0.4 s, the cache 0.01 s)
    inputs = [source, Path(jieba.__file__).with_name("dict.txt"), lexical.POLICY_TERMS]
    key = hashlib.sha256(
        "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in inputs).encode()
    ).hexdigest()[:16]
    cache = user_cache_dir() / f"places-pinyin-{key}.marshal"
    try:
        return dict(marshal.loads(cache.read_bytes()))
    except (OSError, ValueError, EOFError, TypeError):
        pass
    table = _romanise(source)
    write_atomically(cache, marshal.dumps(table))
    return table


def _romanise(source: Path) -> dict[str, tuple[str, ...]]:
    places = gazetteer()
    table: dict[str, list[str]] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        word = parts[1]
        if len(word) < 2 or word not in places or not _administrative(word, word, places):
            continue
        pinyin = _PINYIN.search(parts[2])
        if pinyin:
            key = re.sub(r"[^a-z]", "", pinyin.group(1).lower())
            table.setdefault(key, []).append(canonical_place(word))
    return {key: tuple(dict.fromkeys(names)) for key, names in table.items()}


def english_place_names(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The places an English text names by their romanised names, each with the Chinese places written so
    (("Suzhou", (宿州, 苏州)), …): capitalised words that are the pinyin of an administrative place. Empty for a
    Chinese text (its places are read by `place_names`)."""
    if not is_english(text):
        return []
    table, places = romanised_places(), gazetteer()
    found: list[tuple[str, tuple[str, ...]]] = []
    for match in _PROPER_NAME.finditer(text):
        name, readings = match.group(1), table.get(match.group(1).lower())
        if readings and not _names_a_place(headwords(name), readings, places):
            continue  # an English word that is also a place's pinyin ("Guide", 贵德): the dictionary reads it as a word
        if readings and all(name != known for known, _ in found):
            found.append((name, readings))
    return found


def _names_a_place(meanings: tuple[str, ...], readings: tuple[str, ...], places: frozenset[str]) -> bool:
    """Whether the dictionary's own reading of an English word leaves it a place: it has none, only one-character
    abbreviations (汴 for Henan, 邕 for Nanning), or one that is a place or part of the place's name (杭 for
    Hangzhou). "Guide" (先导, 指南, … — and the pinyin of 贵德) is a word."""
    return (
        not meanings
        or max(map(len, meanings)) == 1
        or any(m in places or any(m in r or r in m for r in readings) for m in meanings)
    )


def _administrative(word: str, text: str, places: frozenset[str]) -> bool:
    """A word the gazetteer tags as a place counts as one when it is (or has) an administrative form: it ends in
    a suffix (深圳市), the text writes one after it (东营市人民政府), or the gazetteer knows the suffixed form
    (苏州 → 苏州市). jieba also tags ordinary words as places (扎堆, 沾边); they have no such form."""
    if not _is_chinese(word):
        return True
    if word.endswith(_ADMIN_SUFFIXES):
        # one character before 市/省/区 is a word, not a name (上市, 东市, 湖区, 新区); one before 县 is a
        # county's name (莒县, 单县)
        return len(word) > 2 or word.endswith("县")
    at = text.find(word)
    following = text[at + len(word) :] if at >= 0 else ""
    return following.startswith(_ADMIN_SUFFIXES) or any(word + s in places for s in _ADMIN_SUFFIXES)


def _suffixed_place(word: str, places: frozenset[str]) -> bool:
    """东营市 when the gazetteer only knows 东营."""
    return any(
        word.endswith(s) and word[: -len(s)] in places and len(word) - len(s) >= 2 for s in _ADMIN_SUFFIXES
    )


def _is_chinese(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)


def _glossary(text: str) -> list[str]:
    """Chinese glossary terms of the English words in a text (principles → 基本原则)."""
    return lexical.english_terms(text).split()


def document_places(issuer: str, title: str) -> tuple[str, ...]:
    """Canonical places of a document: those its issuer names, else those its title names."""
    for text in (issuer, title):
        found = [canonical_place(p) for p in place_names(text, inside_words=True)]
        if found:
            return tuple(dict.fromkeys(found))
    return ()


def issuing_level(issuer: str, title: str) -> str:
    """national / province / city / county from the issuer (else the title), or "" when it does not say."""
    for text in (issuer, title):
        name = compact(to_simplified(text))
        if not name:
            continue
        if _NATIONAL_ISSUER.search(name):
            return NATIONAL
        for place in place_names(name, inside_words=True):
            # the suffix is part of the word (苏州市) or the character after it (苏州 + 市人民政府)
            after = name[name.find(place) + len(place) :][:1]
            level = _level_of_suffix(place) or _level_of_suffix(after)
            if level:
                return level
    return ""


def _level_of_suffix(text: str) -> str:
    if text.endswith(("省", "自治区")):
        return PROVINCE
    if text.endswith("市"):
        return CITY
    if text.endswith(("县", "区")):
        return COUNTY
    return ""


def scope_levels(text: str) -> tuple[str, ...]:
    """The levels a question's scope words name (全省 → province), in LEVELS order."""
    norm = compact(to_simplified(text)).lower()
    return tuple(
        level for level, words in SCOPE_WORDS.items() if any(w.replace(" ", "") in norm for w in words)
    )
