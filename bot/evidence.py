"""Evidence units (sentences, list items, metadata lines) inside retrieved passages, and how well they
match a question. Shared by the relevance gate and the extractive answerer."""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.bilingual import chinese_terms
from retrieval.chunking import Chunk, heading_label, heading_level
from retrieval.embeddings import SIMILARITY_DECIMALS
from retrieval.index import IndexSnapshot
from retrieval.lexical import SYNONYMS, english_terms, general_rarity, tokenize
from retrieval.normalize import compact, to_simplified

log = logging.getLogger(__name__)
ALTERNATIVES = "|"  # a term "A|B" (the readings of one English word) is present when A or B is
SENTENCE_VECTORS_FILE = "sentence_vectors.npz"
# sentences a question is compared with to know its baseline similarity to the library (SentenceSimilarity)
BASELINE_SAMPLE = 256
# a sentence ends at its stop (and closing quotes); a parenthetical right after the stop is the sentence's own note
# ("…全覆盖。(省通信管理局、省工业和信息化厅分工负责)" names who is responsible for what comes before it)
_SENTENCE_END = re.compile(r"[。；！？!?]+[”’」』)）]*(?:[(（][^()（）。]{1,80}[)）])?")
# words that say which document or what kind of question, not what it is about (the language's words; the
# library's own naming words — its places, its documents' years, words in most passages — are added per index
# version by `term_weights`)
GENERIC_TERMS = frozenset(
    [
        "计划",
        "行动计划",
        "方案",
        "行动方案",
        "实施方案",
        "行动",
        "文件",
        "政策",
        "规定",
        "内容",
        "要求",
        "提到",
        "提出",
        "有没有",
        "是否",
        "说",
        "讲",
        "市里",
        "省里",
        "全省",
        "全市",
        "本市",
        "本省",
        "文件里",
        "里面",
        "具体",
        "主要",
        "相关",
        "什么样",
        "哪个",
        "哪一",
        "哪一年",
        "一年",
        "年份",
        "怎样",
        "如何",
        "为什么",
        "情况",
        "方面",
        "工作",
        "措施",
        "指",
        "叫",
        "称",
        "介绍",
        "一下",
        "告诉",
        "问",
        "意见",
        "指导",
        "指导意见",
        "通知",
        "办法",
        "规划",
        "部署",
        "目标",
        "政府",
        "人民政府",
    ]
)
# the form of a question, not its content, when the library never writes the word: a count with its measure
# ("三份", "几大类"), a word built on a question word ("各是", "哪几", "多少"), "each"/"respectively" words
FORM_WORD = re.compile(
    r"[一二三四五六七八九十两几\d]+大?[个类项份条种点部家座批]|.*(?:哪|几|啥|什么|多少|怎么|怎样|吗|呢).*"
    r"|各[是自有]|分别|分成|分为|都是|库里|本库"
)
# a word found in at least this share of a version's passages cannot tell them apart
COMMON_TERM_SHARE = 0.5
NUMBER = re.compile(
    r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?(?![0-9]|\s*年)|[一二三四五六七八九十百千万]+[个项条家座万]"
)
YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")  # a year written in digits ("2023", not "20230")
MONEY = re.compile(r"\d+(?:\.\d+)?\s*(?:万元|亿元|元)")


@dataclass(frozen=True)
class Unit:
    """One sentence, list item or line of a chunk, with absolute offsets into the document body."""

    chunk: Chunk
    start: int
    end: int
    text: str
    is_heading: bool

    @property
    def compact(self) -> str:
        return compact(self.text)


def units_of(chunk: Chunk) -> list[Unit]:
    """Split a chunk into units: headings and 【…】 lines stand alone; wrapped lines are re-joined;
    paragraphs are cut at sentence ends."""
    text = chunk.text
    units: list[Unit] = []
    lines: list[tuple[int, int]] = []
    cursor = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        lead = len(body) - len(body.lstrip())
        if body.strip():
            lines.append((cursor + lead, cursor + len(body.rstrip())))
        cursor += len(raw)
    paragraphs: list[tuple[int, int]] = []
    for a, b in lines:
        line = text[a:b]
        standalone = line.startswith("【") or (heading_level(line) and not _SENTENCE_END.search(line))
        joinable = (
            paragraphs
            and not standalone
            and not heading_level(line)
            and not _SENTENCE_END.search(text[paragraphs[-1][1] - 1])
            and not text[paragraphs[-1][0] : paragraphs[-1][1]].startswith("【")
            and len(text[paragraphs[-1][0] : paragraphs[-1][1]]) > 20
        )
        if joinable:
            paragraphs[-1] = (paragraphs[-1][0], b)
        else:
            paragraphs.append((a, b))
    for a, b in paragraphs:
        addressees = _ADDRESSEES.match(text, a, b)
        if addressees and not _SENTENCE_END.search(text, a, addressees.start()):
            # a notice's heading lines and addressees ("各区县人民政府,…,各有关单位:") say whom it is sent to, not
            # what it says: a label of their own, never an answer to a question about content
            if addressees.start("to") > a and text[a : addressees.start("to")].strip():
                units.append(_unit(chunk, a, addressees.start("to"), True))  # its title and number lines
            units.append(_unit(chunk, addressees.start("to"), addressees.end(), True))
            a = addressees.end()
            if not text[a:b].strip():
                continue
        piece = text[a:b]
        lone_heading = bool(heading_level(piece)) and not _SENTENCE_END.search(piece)
        start = a
        for match in _SENTENCE_END.finditer(piece):
            units.append(_unit(chunk, a + (start - a), a + match.end(), lone_heading))
            start = a + match.end()
        if text[start:b].strip():
            units.append(_unit(chunk, start, b, lone_heading))
    return [u for u in units if u.text.strip()]


# the addressee list a notice opens with (after its title and number lines): 各… up to the colon, naming bodies
_ADDRESSEES = re.compile(
    r"[^。；;：:]{0,120}?(?P<to>各[^。；;：:]{0,200}?(?:人民政府|部门|单位|机构|院校|管委会)[^。；;：:]{0,80}?[：:])"
)


def heading_depth(unit: Unit) -> int | None:
    """Which section of its chunk's path the unit is the heading line of (0 = the top one), or None for content.

    Chunks carry the heading lines of the sections they open ("二、重点任务" above "1.发展…"); such a line, or a
    bullet's lead phrase that is all of its section's name ("3. 推进信息网络演进升级。"), is context for the
    content under it: it belongs in the citation's section path, never alone in an answer."""
    if not heading_level(unit.text):
        return None
    label = compact(heading_label(unit.text))
    for depth, part in enumerate(unit.chunk.section_parts):
        if compact(heading_label(part)) == label and _bare(unit.text):
            return depth
    return None


def _strip_dash(text: str) -> str:
    return text.strip().lstrip("—-").strip()


def _bare(text: str) -> bool:
    """Nothing but a section's name (and its full stop)."""
    return len(compact(_strip_dash(text)).rstrip("。.；;：:")) <= len(compact(heading_label(text))) + 1


def is_ancestor_heading(unit: Unit) -> bool:
    """The heading line of a section above the unit's own (context, never an answer or an item)."""
    depth = heading_depth(unit)
    return depth is not None and depth < len(unit.chunk.section_parts) - 1


def _unit(chunk: Chunk, a: int, b: int, is_heading: bool) -> Unit:
    while a < b and chunk.text[a].isspace():
        a += 1
    return Unit(chunk, chunk.start + a, chunk.start + b, chunk.text[a:b], is_heading)


@dataclass(frozen=True)
class TermWeights:
    """Inverse document frequency of terms over the chunks of one index version, and the words that only name
    the library's documents (GENERIC_TERMS, its places and years, words in most of its passages)."""

    idf: dict[str, float]
    default: float
    generic: frozenset[str] = GENERIC_TERMS

    def weight(self, term: str) -> float:
        """The term's IDF over the library's passages; for a word the library never writes, the highest weight
        scaled by how rare the word is in the language: an everyday word the library lacks ("安排", "希望")
        is how a question is put, a rare one ("用能") what it is about."""
        known = self.idf.get(term)
        return known if known is not None else self.default * general_rarity(term)


_WEIGHTS_BY_VERSION: dict[str, TermWeights] = {}
_WEIGHTS_LOCK = threading.Lock()


def _compute_term_weights(texts: Sequence[str], naming: Sequence[str] = ()) -> TermWeights:
    document_frequency: dict[str, int] = {}
    for text in texts:
        for term in set(tokenize(text)):
            document_frequency[term] = document_frequency.get(term, 0) + 1
    n = len(texts) or 1
    idf = {t: math.log(1 + n / (1 + df)) for t, df in document_frequency.items()}
    common = {t for t, df in document_frequency.items() if n >= 4 and df / n >= COMMON_TERM_SHARE}
    named = {t for text in naming for t in tokenize(text, expand=False)}
    return TermWeights(idf, math.log(1 + n), GENERIC_TERMS | common | named)


def _naming_texts(snapshot: IndexSnapshot) -> list[str]:
    """What names the documents rather than what they say: their places and the years of their periods."""
    texts: list[str] = []
    for entry in snapshot.documents.values():
        summary = entry.get("summary", {})
        for place in summary.get("places") or ():
            texts += [place, place + "市", place + "省"]
        texts += YEAR.findall(f"{summary.get('period', '')} {summary.get('title', '')}")
    return texts


def term_weights(snapshot: IndexSnapshot) -> TermWeights:
    """IDF weights of one index version, computed once per version (not per question)."""
    weights = _WEIGHTS_BY_VERSION.get(snapshot.version)
    if weights is None:
        weights = _compute_term_weights([c.contextual_text for c in snapshot.chunks], _naming_texts(snapshot))
        with _WEIGHTS_LOCK:
            _WEIGHTS_BY_VERSION[snapshot.version] = weights
            while len(_WEIGHTS_BY_VERSION) > 4:
                _WEIGHTS_BY_VERSION.pop(next(iter(_WEIGHTS_BY_VERSION)))
    return weights


_LATEST_YEAR: dict[str, int] = {}
_CORPUS_TEXT: dict[str, str] = {}


def corpus_text(snapshot: IndexSnapshot) -> str:
    """All document text of one index version, normalised for matching (cached per version)."""
    text = _CORPUS_TEXT.get(snapshot.version)
    if text is None:
        text = compact(
            "\n".join(e.get("text", "") + e["summary"].get("title", "") for e in snapshot.documents.values())
        )
        _CORPUS_TEXT.clear()
        _CORPUS_TEXT[snapshot.version] = text
    return text


_CORPUS_LETTERS: dict[str, str] = {}


def letters(text: str) -> str:
    """Only the letters, digits and characters of a text (normalised), no punctuation: "“智改数转”项目" → 智改数转项目."""
    return _NOT_LETTER.sub("", compact(text))


_NOT_LETTER = re.compile(r"[\W_]+")


def corpus_letters(snapshot: IndexSnapshot) -> str:
    """`corpus_text` without punctuation (cached per version): where a quoted phrase is looked for."""
    text = _CORPUS_LETTERS.get(snapshot.version)
    if text is None:
        text = _NOT_LETTER.sub("", corpus_text(snapshot))
        _CORPUS_LETTERS.clear()
        _CORPUS_LETTERS[snapshot.version] = text
    return text


def latest_year(snapshot: IndexSnapshot) -> int:
    """The latest year any document of this index version mentions (its text or its period)."""
    year = _LATEST_YEAR.get(snapshot.version)
    if year is None:
        years = [
            int(y)
            for entry in snapshot.documents.values()
            for y in re.findall(
                r"(?<!\d)(20\d\d)(?!\d)", entry.get("text", "") + str(entry["summary"].get("period", ""))
            )
        ]
        year = max(years, default=0)
        _LATEST_YEAR[snapshot.version] = year
    return year


def salient_terms(
    question: str,
    weights: TermWeights,
    corpus_vocabulary: set[str] | None = None,
    split_compounds: bool = False,
    english_readings: bool = False,
) -> dict[str, float]:
    """Content terms of a question with their weights; English words the corpus does not know are
    dropped (their glossary translations stand in for them). With `split_compounds` (for choosing
    sentences, not for judging relevance), a compound the corpus does not use ("医药企业") stands for
    its parts that it does use ("医药", "企业"). With `split_compounds` or `english_readings` (the relevance gate),
    an English question's words count in the library's words ("bandwidth" → 带宽)."""
    terms: dict[str, float] = {}
    for term in tokenize(question, expand=False, search_mode=False):
        if term in weights.generic or (len(term) < 2 and not term.isdigit()):
            continue
        if corpus_vocabulary is not None and term not in corpus_vocabulary and FORM_WORD.fullmatch(term):
            continue
        if corpus_vocabulary is not None and term not in corpus_vocabulary:
            known = [alt for alt in SYNONYMS.get(term, ()) if alt in corpus_vocabulary]
            if known:
                # the documents' own word for it ("老基建" → "传统基础设施") decides its weight
                terms[term] = max(weights.weight(alt) for alt in known)
                continue
            if term.isascii() and term.isalpha():
                continue
            parts = _known_parts(term, corpus_vocabulary, weights.generic) if split_compounds else []
            if parts:
                terms.update((part, weights.weight(part)) for part in parts)
                continue
        terms[term] = weights.weight(term)
    if corpus_vocabulary is not None and (split_compounds or english_readings):
        # an English question's words as the library writes them ("bandwidth" → 带宽); the readings of
        # one English word are one term, present when any of them is
        for readings in chinese_terms(question, corpus_vocabulary.__contains__):
            fresh = [r for r in readings if r not in weights.generic]
            if fresh and not any(r in terms for r in readings):  # the glossary read this word already
                terms[ALTERNATIVES.join(fresh)] = max(weights.weight(r) for r in fresh)
    return terms


def _known_parts(term: str, vocabulary: set[str], generic: frozenset[str] = GENERIC_TERMS) -> list[str]:
    if len(term) < 3 or term.isascii():
        return []
    return [
        part
        for part in dict.fromkeys(tokenize(term, expand=False, search_mode=True))
        if part != term and len(part) >= 2 and part in vocabulary and part not in generic
    ]


def matching_text(question: str) -> str:
    """A question normalised for matching against section names, with the Chinese glossary terms of its English
    words ("What are the basic principles…" also reads 基本原则)."""
    return compact(question) + compact(english_terms(question))


def coverage(terms: dict[str, float], text: str) -> float:
    """Weighted share of the terms found in the text (0 when there are no terms)."""
    total = sum(terms.values())
    if not total:
        return 0.0
    haystack = _unquoted(compact(text))
    return sum(w for t, w in terms.items() if _present(t, haystack)) / total


# quotation marks around a term (“四强”产业) do not change what the words say
_QUOTES = str.maketrans("", "", "“”‘’\"'「」『』")


def _unquoted(text: str) -> str:
    return text.translate(_QUOTES)


def _present(term: str, haystack: str) -> bool:
    if ALTERNATIVES in term:
        return any(_present(alt, haystack) for alt in term.split(ALTERNATIVES))
    term = _unquoted(term)
    return term in haystack or any(_unquoted(alt) in haystack for alt in SYNONYMS.get(term, ()))


def unit_score(terms: dict[str, float], unit: Unit) -> float:
    haystack = _unquoted(unit.compact)
    return sum(w for t, w in terms.items() if _present(t, haystack))


CLOZE_SIDE_MIN = 2  # characters: one shared character either side of a question word says nothing


def cloze_match(contexts: tuple[str, str] | None, unit: Unit) -> int:
    """How many characters of the question's words around its question word the unit repeats, in order:
    the longest end of the words before it plus the longest start of the words after it (each side
    counted from CLOZE_SIDE_MIN characters)."""
    if contexts is None:
        return 0
    before, after = (_unquoted(side) for side in contexts)
    haystack = _unquoted(unit.compact)
    left, left_end = 0, 0
    for n in range(len(before), CLOZE_SIDE_MIN - 1, -1):
        found = haystack.find(before[-n:])
        if found >= 0:
            left, left_end = n, found + n
            break
    right = next(
        (n for n in range(len(after), CLOZE_SIDE_MIN - 1, -1) if haystack.find(after[:n], left_end) >= 0), 0
    )
    return left + right


ENUMERATION = re.compile(r"[^、，,。]{1,12}、[^、，,。]{1,12}、")
# an enumeration closed by "的" and the noun it describes: "建成A、B、C的服务体系" names the parts of 服务体系
_ENUMERATION_OF = re.compile(
    r"、[^、，,。；;：:]{1,16}的(?P<of>[\u4e00-\u9fff]{2,8})(?=[，,。；;：:！!？?]|$)"
)


def enumerates_asked(unit: Unit, asked: str) -> bool:
    """Whether a sentence enumerates the parts of what a question names: its enumeration ends in "的" and a noun
    the question (compact, simplified) has whole ("…、C的服务体系" for "服务体系由哪几部分组成"); the same
    enumeration before another noun ("…、C的总体框架") is about something else."""
    return any(m.group("of") in asked for m in _ENUMERATION_OF.finditer(compact(to_simplified(unit.text))))


def has_number(text: str, ignore: Sequence[str] = ()) -> bool:
    cleaned = text
    for word in ignore:
        cleaned = cleaned.replace(word, "")
    return bool(NUMBER.search(cleaned))


class UnitVectors:
    """Dense vectors of evidence units, computed once per distinct sentence and kept in memory.

    Sentence-level similarity finds the right sentence for paraphrased questions, where words do not match."""

    def __init__(self, embeddings: Any, max_items: int = 2_000_000, model_id: str = "") -> None:
        self.embeddings = embeddings
        # names the model in the saved file: vectors of another model are never reused
        self.model_id = model_id or str(getattr(embeddings, "model_name", type(embeddings).__name__))
        self.max_items = max_items
        self._vectors: dict[str, np.ndarray] = {}
        self._samples: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            computed = self.embeddings.embed_documents(missing)
            with self._lock:
                if len(self._vectors) + len(missing) > self.max_items:
                    self._vectors.clear()
                for text, vector in zip(missing, computed, strict=True):
                    self._vectors[text] = np.asarray(vector, dtype=np.float32)
        return np.vstack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    def warm_up(
        self, snapshot: IndexSnapshot, cache_dir: Path | None = None, reuse_dirs: Sequence[Path] = ()
    ) -> None:
        """Vectors for every unit of an index version, so that no question waits for sentence embeddings (a
        library of hundreds of documents has tens of thousands of sentences). With `cache_dir` (the version's
        directory) they are read from / saved to a file there, so a restart does not embed them again;
        `reuse_dirs` (earlier versions) lend the vectors of sentences that did not change."""
        units = list(
            dict.fromkeys(u.text for c in snapshot.chunks if not c.is_heading_only for u in units_of(c))
        )
        cache = None if cache_dir is None else cache_dir / SENTENCE_VECTORS_FILE
        if cache is not None:
            self._load(cache)
        missing = [t for t in units if t not in self._vectors]
        for directory in reuse_dirs if missing else ():
            self._load(directory / SENTENCE_VECTORS_FILE)
        missing = [t for t in units if t not in self._vectors]
        for i in range(0, len(missing), 64):
            self.vectors(missing[i : i + 64])
        if cache is not None and (missing or not cache.exists()):
            self._save(cache, units)

    def _load(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as saved:
                if str(saved["model"]) != self.model_id:
                    return
                texts, vectors = saved["texts"], saved["vectors"]
        except (OSError, KeyError, ValueError):
            return  # absent or unreadable: recomputed and rewritten
        with self._lock:
            for text, vector in zip(texts.tolist(), vectors, strict=True):
                self._vectors.setdefault(text, vector)

    def _save(self, path: Path, texts: Sequence[str]) -> None:
        vectors = self.vectors(list(texts))
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
        try:
            np.savez(partial, model=np.array(self.model_id), texts=np.array(list(texts)), vectors=vectors)
            os.replace(partial, path)
        except OSError:
            log.warning("could not save sentence vectors to %s", path, exc_info=True)
            partial.unlink(missing_ok=True)

    def similarity_to(self, question: str) -> SentenceSimilarity:
        return SentenceSimilarity(self, np.asarray(self.embeddings.embed_query(question), dtype=np.float32))

    def library_sample(self, snapshot: IndexSnapshot) -> np.ndarray:
        """The vectors of a fixed sample of an index version's sentences (every k-th of its distinct sentences,
        at most BASELINE_SAMPLE: the cost per question does not grow with the library); cached per version."""
        sample = self._samples.get(snapshot.version)
        if sample is None:
            texts = sorted(
                {
                    u.text
                    for c in snapshot.chunks
                    if not c.is_heading_only
                    for u in units_of(c)
                    if not u.is_heading
                }
            )
            step = max(1, len(texts) // BASELINE_SAMPLE)
            sample = self.vectors(texts[::step][:BASELINE_SAMPLE])
            with self._lock:
                self._samples[snapshot.version] = sample
                while len(self._samples) > 2:
                    self._samples.pop(next(iter(self._samples)))
        return sample


@dataclass(frozen=True)
class SentenceSimilarity:
    """A question's dense similarity to evidence units (call it with the units), at the CPU-independent
    precision like the retriever's similarities."""

    unit_vectors: UnitVectors
    query: np.ndarray

    def __call__(self, units: Sequence[Unit]) -> np.ndarray:
        if not units:
            return np.zeros(0, dtype=np.float32)
        return np.round(self.unit_vectors.vectors([u.text for u in units]) @ self.query, SIMILARITY_DECIMALS)

    def baseline(self, snapshot: IndexSnapshot) -> float:
        """The question's mean similarity to a fixed sample of the library's sentences: what "similar" is for
        this question before any passage is about it (lower for a question in another language than the
        library's, higher for one on the library's topic)."""
        sample = self.unit_vectors.library_sample(snapshot)
        if not len(sample):
            return 0.0
        return round(float(np.round(sample @ self.query, SIMILARITY_DECIMALS).mean()), SIMILARITY_DECIMALS)


def save_sentence_vectors(library: Any) -> None:
    """Embed the answerable sentences of the serving index version once, at build time, and keep them
    beside it, so a server (every worker) starts without embedding them again. Sentences an earlier version
    already had are taken from its file, not embedded again."""
    if library.live.is_ready():
        snapshot = library.live.current()
        vectors = UnitVectors(library.embeddings, model_id=library.embedding_model)
        current = library.layout.version_dir(snapshot.version)
        earlier = (
            [p for p in current.parent.iterdir() if p != current and p.is_dir()]
            if current.parent.is_dir()
            else []
        )
        vectors.warm_up(snapshot, cache_dir=current, reuse_dirs=earlier)
