"""The embedded default: answers made only of verbatim sentences, list items and metadata lines from the
retrieved passages, each with a citation. No LLM, deterministic, fast."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from bot.attribution import LibraryPlaces, designated_documents, documents_per_place, named_document_groups
from bot.evidence import (
    ENUMERATION,
    GENERIC_TERMS,
    MONEY,
    YEAR,
    TermWeights,
    Unit,
    cloze_match,
    enumerates_asked,
    has_number,
    heading_depth,
    is_ancestor_heading,
    letters,
    matching_text,
    salient_terms,
    unit_score,
    units_of,
)
from bot.question import (
    ANSWER_TYPE_EVIDENCE,
    QuestionAnalysis,
    asked_clauses,
    asked_part,
    claimed_figures,
    cloze_contexts,
    code_names,
    counts_in,
    documents_together,
    figure_values,
    named_bodies,
    quoted_phrases,
)
from retrieval.bilingual import chinese_terms, is_english
from retrieval.chunking import PATH_SEPARATOR, Chunk
from retrieval.index import IndexSnapshot
from retrieval.lexical import tokenize
from retrieval.metadata import DOC_NUMBER
from retrieval.normalize import compact, to_simplified
from retrieval.places import canonical_place, english_place_names, place_names
from retrieval.retriever import Passage

MAX_UNITS = 4
DENSE_SHARE = 0.5  # weight of the (min-max scaled) dense similarity beside the lexical share
KEEP_RATIO = 0.7  # keep sentences of the best passage scoring at least this share of the best one
OTHER_PASSAGE_RATIO = 0.8  # … and of another passage, at least this share
# a sentence that gives the kind of fact asked for (a department, a phone number) scores this much more …
TYPE_BONUS = 0.5
# … when its evidence is the form of such a fact (a number, an address, an office charged with a task), not a word
# of a topic ("申请" is in many sentences that say nothing of how to apply) nor a loose form ("…城区、" for a district)
FACT_FORMS = frozenset({"phone", "email", "url", "department"})
LIST_BONUS = 0.5  # a "which are…" question prefers sentences that enumerate (A、B、C)
LOWER_RANK_FACTOR = 0.9  # sentences of the passages after the first
# sentences are chosen from this many of the best passages (and from any passage that restates the question) …
SENTENCE_PASSAGES = 4
SUPPORT_PASSAGES = 3  # … but only sentences of the first three support an answer that another passage leads
NOT_COUNTS = ("5G", "4G", "IPv6", "PUE")  # names with digits in them, not figures
# a unit this long, or ending with one of SENTENCE_STOPS, is a sentence (not a label or a name)
SENTENCE_CHARS = 20
# a closing bracket ends a sentence's note ("…。(省广电局负责)") or a bracketed line such as a period "(2021—2023年)"
SENTENCE_STOPS = ("。", "；", "！", "？", ";", "!", "?", "）", ")")
LABEL_SHARE_MIN = 0.4  # a list question names a section when it repeats this share of the section's name
CLOZE_MIN = 6  # characters around the question word a sentence must repeat to count as restating it
CLOZE_BONUS = 1.0  # … and then it leads the answer (from any of the passages, not only the first few)
PHRASE_MIN = 4  # a sentence that repeats this many characters of the question in one run …
PHRASE_BONUS = 0.3  # … scores up to this much more (a term the tokenizer splits, "算力基础设施", kept whole)
ANSWER_TYPE_NAMES = {
    "phone": "联系电话",
    "email": "电子邮箱",
    "url": "网址",
    "company": "承建或运营企业",
    "procedure": "办理流程或申报材料",
    "department": "具体负责部门",
    "district": "具体建设地点",
    "result": "执行结果或进展",
    "tax": "税收优惠",
    "penalty": "处罚措施",
    "percent": "比例或百分比",
}
_DATE = re.compile(r"\d{4}\s*[年.．-]\s*\d{1,2}\s*[月.．-]\s*\d{1,2}\s*日?")
_NUMBERING = re.compile(r"^[一二三四五六七八九十]+、|^[(（][一二三四五六七八九十0-9]+[)）]|^\d+\s*[.、．]\s*")
_METADATA_LINES: dict[str, tuple[str, ...]] = {
    "doc_number": ("字号", "文号"),
    "published": ("公布日期", "印发日期", "发布日期"),
    "effective": ("施行日期",),
    "level": ("效力等级",),
    "status": ("时效性",),
    "topic": ("主题分类",),
}
_DAY = re.compile(
    r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}\s*[.．/-]\s*\d{1,2}\s*[.．/-]\s*\d{1,2}|[一二三四五六七八九十]+月[一二三四五六七八九十]+[日号]"
)
_DEADLINE = re.compile(r"到\s*\d{4}\s*年")
_PERIOD = re.compile(r"[(（]\s*\d{4}\s*[-—–]\s*\d{4}\s*年\s*[)）]")


@dataclass
class Draft:
    """What the extractive answerer found: evidence units in answer order, or why it could not answer."""

    units: list[Unit] = field(default_factory=list)
    list_items: list[str] = field(default_factory=list)
    refusal_reason: str | None = None
    kind: str = "sentences"
    continued: set[int] = field(default_factory=set)  # list units that continue the previous item's line
    preface: str = ""  # a statement derived from document fields (validity), shown before the quotes


def strip_numbering(label: str) -> str:
    return _NUMBERING.sub("", label).strip()


class ExtractiveAnswerer:
    def __init__(self, max_units: int = MAX_UNITS) -> None:
        self.max_units = max_units

    # -- selection ---------------------------------------------------------------------------------
    def draft(
        self,
        question: str,
        analysis: QuestionAnalysis,
        passages: Sequence[Passage],
        snapshot: IndexSnapshot,
        weights: TermWeights,
        vocabulary: set[str],
        similarity: Callable[[Sequence[Unit]], np.ndarray] | None = None,
    ) -> Draft:
        """Pick the evidence. `similarity` gives each unit's dense similarity to the question (optional)."""
        if not passages:
            return Draft(refusal_reason="没有检索到相关条文")
        terms = salient_terms(question, weights, vocabulary, split_compounds=True)
        if analysis.metadata_fields:
            draft = self._metadata(analysis, _documents_asked_about(analysis, passages, snapshot), snapshot)
            if draft.units or draft.refusal_reason:
                return draft
        if (analysis.wants_list and not analysis.wants_quantity) or analysis.ordinal:
            draft = self._enumeration(question, analysis, passages, snapshot)
            missing = _bodies_not_named(question, draft.units, snapshot)
            if draft.units and missing:
                return Draft(refusal_reason=f"文件中没有提到{missing[0]}")
            if draft.units or draft.refusal_reason:
                return draft
        named = _named_sections(question, passages, snapshot)
        if named:
            inside = [
                Passage(chunk, 0.0)
                for doc_id in dict.fromkeys(doc for doc, _ in named)
                for chunk in snapshot.chunks_of(doc_id)
                if any(
                    chunk.doc_id == doc and chunk.section_parts[: len(path)] == path for doc, path in named
                )
            ]
            if not any(
                _is_sentence(u) and heading_depth(u) is None for p in inside for u in units_of(p.chunk)
            ):
                label = _section_name(named[0][1][-1])
                return Draft(refusal_reason=f"本库收录的文本中，“{label}”部分没有内容")
            # the question names a section ("…“布局算力枢纽”这一条…"): the answer is in that section
            ranked = {p.chunk.chunk_id: i for i, p in enumerate(passages)}
            passages = sorted(
                inside, key=lambda p: (ranked.get(p.chunk.chunk_id, len(ranked)), p.chunk.start)
            )
        choose = functools.partial(
            self._sentences,
            similarity=similarity,
            prefer_enumerations=analysis.wants_list,
            answer_types=analysis.answer_types,
            question=question,
            places=analysis.places,
            titles=_library_titles(snapshot),
        )
        draft = choose(terms, passages)
        dated = _passages_of_year_asked(question, analysis, terms, draft.units, passages)
        if dated:
            # "2020年要新开通多少…" answered by a 2022 target: the sentences that give a figure for the year asked
            # answer it, the year weighing as much as the question's weightiest word
            years = {str(y): max(terms.values()) for y in analysis.years if str(y) in question}
            draft = choose({**terms, **years}, dated)
        asked = compact(to_simplified(question))
        if draft.units and not any(
            _is_sentence(u) or compact(to_simplified(u.text)) in asked for u in draft.units
        ):
            # labels and names ("正文", an issuer line) are no answer to a question about content
            return Draft(refusal_reason="检索到的条文中没有可以引用的句子")
        missing = _bodies_not_named(question, draft.units, snapshot)
        if missing:
            return Draft(refusal_reason=f"文件中没有提到{missing[0]}")
        swapped = _sibling_code(question, terms, draft.units)
        if swapped:
            # "…6G…" answered by the sentence that says it of 5G: the document says it of the other
            return Draft(refusal_reason=f"相关条文说的是{swapped[1]}，不是{swapped[0]}")
        unnamed = _count_not_enumerated(question, analysis, draft)
        if unnamed:
            # "那15个产业园具体是哪些": the document gives how many, not which
            return Draft(refusal_reason=f"文件只给出了数量（{unnamed}个），没有逐一列出")
        draft = _with_fact_asked(draft, analysis.answer_types)
        for kind in analysis.answer_types:
            if not any(ANSWER_TYPE_EVIDENCE[kind].search(u.compact) for u in draft.units):
                return Draft(refusal_reason=f"文件中没有给出所问的{ANSWER_TYPE_NAMES[kind]}")
        if analysis.wants_year and not any(
            YEAR.search(u.text) or YEAR.search(u.chunk.title) for u in draft.units
        ):
            # "那座桥哪年完工" answered by a sentence about the bridge that gives no date: the year is not given
            return Draft(refusal_reason="文件中没有给出所问的年份")
        if analysis.wants_day and not any(_DAY.search(u.text) for u in draft.units):
            # "申报截止时间是哪天" answered by a sentence that gives no day: the day is not given
            return Draft(refusal_reason="文件中没有给出所问的日期")
        counting = analysis.wants_quantity and not analysis.wants_list
        years = [
            y
            for y in analysis.years
            if counting and y not in _range_years(question) and not any(str(y) in u.text for u in draft.units)
        ]
        if years:
            # "2020年的时候…占比是多少" answered by a 2022 target: the figure for the year asked is not given
            return Draft(refusal_reason=f"文件中没有给出{years[0]}年的具体数字")
        places = _places_not_given(question, analysis, draft.units, passages, snapshot) if counting else []
        if places:
            # "青岛到2022年要建多少基站" answered by the province's figure: the figure for the place asked is not given
            return Draft(refusal_reason=f"文件中没有给出{places[0]}的具体数字")
        # "建几个充电站" counts things as "多少" does (a list question only for its 几个, which may count kinds);
        # answered by sentences rather than an enumeration of them, the sentence naming what is counted must give
        # its number
        things = analysis.wants_list and not draft.list_items and bool(_THINGS_COUNTED.search(question))
        counted = _counted_noun(question, vocabulary) if counting or things else None
        if counted and not _counted_in(counted, draft.units, vocabulary, weights.generic):
            return Draft(refusal_reason=f"文件中没有给出{_as_written(counted, question)}的具体数字")
        claimed = claimed_figures(question)
        given = [value for u in draft.units for _, value in figure_values(u.text)] if claimed else []
        unsupported = [w for w, v in claimed if not any(math.isclose(v, g) for g in given)]
        if unsupported:
            # "淄博计划说要建2万个基站，对吗？" answered by a sentence without that figure: nothing confirms it
            return Draft(refusal_reason=f"文件中没有给出“{unsupported[0]}”这一数字")
        if analysis.wants_money and not any(MONEY.search(u.compact) for u in draft.units):
            return Draft(refusal_reason="文件中没有给出相关的金额或补贴标准")
        if (
            analysis.wants_quantity
            and (not analysis.wants_list or _EACH_FIGURE.search(compact(to_simplified(question))))
            and not any(_gives_figure(_figures_text(u, _asks_years(question))) for u in draft.units)
        ):
            # "…分别是多少": a figure for each is still a figure; a year is not the number of anything asked
            # ("要建多少个泵站" answered by "…规划(2024-2026年)")
            return Draft(refusal_reason="文件中没有给出所问的具体数字")
        if (
            counting
            and not analysis.metadata_fields
            and _figures_of_another_subject(question, terms, draft.units)
        ):
            # "污水处理率要达到多少" answered by a sentence whose figure is a data centre's: the figure for
            # what is asked is not given
            return Draft(refusal_reason="文件中没有给出所问的具体数字")
        return draft

    def _sentences(
        self,
        terms: dict[str, float],
        passages: Sequence[Passage],
        similarity: Callable[[Sequence[Unit]], np.ndarray] | None = None,
        prefer_enumerations: bool = False,
        answer_types: Sequence[str] = (),
        question: str = "",
        places: Sequence[str] = (),
        titles: str = "",
    ) -> Draft:
        """Score every sentence of the top passages by its share of the question's (IDF-weighted) words
        plus, when available, its dense similarity to the question; keep the best few. A sentence that
        restates the question around its question word ("要培育X园区" for "要培育什么园区") leads."""
        contexts = cloze_contexts(question) if question else None
        candidates: list[tuple[int, Unit]] = []
        restating: list[int] = []
        for rank, passage in enumerate(passages):
            for unit in units_of(passage.chunk):
                if unit.text.startswith("【片段") or unit.is_heading or is_ancestor_heading(unit):
                    continue
                cloze = cloze_match(contexts, unit)
                if rank < SENTENCE_PASSAGES or cloze >= CLOZE_MIN:
                    candidates.append((rank, unit))
                    restating.append(cloze if cloze >= CLOZE_MIN else 0)
        if not candidates:
            return Draft()
        total = sum(terms.values()) or 1.0
        lexical = np.array([unit_score(terms, unit) / total for _, unit in candidates])
        dense = np.zeros(len(candidates))
        if similarity is not None:
            raw = similarity([unit for _, unit in candidates])
            spread = float(raw.max() - raw.min())
            dense = (raw - raw.min()) / spread if spread > 1e-6 else np.zeros(len(candidates))
        # the second and third passages' sentences count 0.9, later passages' 0.81 (the order of retrieval is evidence)
        rank_factor = np.array(
            [
                1.0 if rank == 0 else LOWER_RANK_FACTOR ** (1 if rank < SUPPORT_PASSAGES else 2)
                for rank, _ in candidates
            ]
        )
        listing = LIST_BONUS * np.array(
            [bool(ENUMERATION.search(u.text)) for _, u in candidates], dtype=float
        )
        if prefer_enumerations:
            # an enumeration of the parts of what the question names ("形成A、B、C的服务体系" for "要形成的服务
            # 体系包括哪些") is its list and leads, as a sentence restating the question does; another
            # enumeration, in a sentence that shares more of the question's words, is of something else
            asked = compact(to_simplified(question))
            listing += CLOZE_BONUS * np.array(
                [enumerates_asked(u, asked) for _, u in candidates], dtype=float
            )
        # a sentence that gives the kind of fact asked for ("由哪些单位负责" → "(责任单位:…厅)", a phone number)
        typed = np.array(
            [
                any(ANSWER_TYPE_EVIDENCE[k].search(u.compact) for k in answer_types if k in FACT_FORMS)
                for _, u in candidates
            ],
            dtype=float,
        )
        cloze_bonus = CLOZE_BONUS * np.minimum(np.array(restating, dtype=float) / (2 * CLOZE_MIN), 1.0)
        subject = _without_places(question, places)
        runs = np.array(
            [_longest_shared_run(subject, u.compact, naming=titles) for _, u in candidates], dtype=float
        )
        phrase = PHRASE_BONUS * np.clip((runs - PHRASE_MIN + 1) / PHRASE_MIN, 0.0, 1.0)
        scores = (
            lexical
            + DENSE_SHARE * dense
            + (listing if prefer_enumerations else 0.0)
            + TYPE_BONUS * typed
            + cloze_bonus
            + phrase
        ) * rank_factor
        order = sorted(
            range(len(candidates)), key=lambda i: (-scores[i], candidates[i][0], candidates[i][1].start)
        )
        best = scores[order[0]]
        best_chunk = candidates[order[0]][1].chunk.chunk_id
        chosen: list[Unit] = []
        for i in order:
            unit = candidates[i][1]
            # sentences beside the best one may support it; a sentence of another passage must be nearly
            # as good and add a word of the question that the answer does not have yet
            needed = KEEP_RATIO if unit.chunk.chunk_id == best_chunk else OTHER_PASSAGE_RATIO
            if len(chosen) >= self.max_units - 1:
                break
            if chosen and candidates[i][0] >= SUPPORT_PASSAGES and unit.chunk.chunk_id != best_chunk:
                continue  # a lower-ranked passage may hold the answer, not add to another passage's
            if scores[i] >= needed * best and (
                unit.chunk.chunk_id == best_chunk or _adds_terms(terms, unit, chosen)
            ):
                chosen.append(unit)
        lead = self._section_lead(chosen[0])
        if lead is not None and lead not in chosen:
            chosen.append(lead)
        following = self._after_lead(chosen[0])
        if following is not None and following not in chosen:
            chosen.append(following)
        main_doc = chosen[0].chunk.doc_id
        chosen.sort(key=lambda u: (u.chunk.doc_id != main_doc, u.chunk.doc_id, u.start))
        return Draft(units=chosen)

    @staticmethod
    def _after_lead(unit: Unit) -> Unit | None:
        """When the best sentence only names its section (a bullet's lead phrase), the content is the
        sentence after it."""
        units = [u for u in units_of(unit.chunk) if not u.is_heading and not is_ancestor_heading(u)]
        position = next((i for i, u in enumerate(units) if u.start == unit.start), None)
        if position is None or position + 1 >= len(units):
            return None
        if (position == 0 and len(unit.text) <= 40) or heading_depth(unit) is not None:
            return units[position + 1]
        return None

    @staticmethod
    def _section_lead(unit: Unit) -> Unit | None:
        """The sentence that names the section (e.g. a bullet's lead phrase), for context."""
        units = units_of(unit.chunk)
        first = next((u for u in units if not u.is_heading and not is_ancestor_heading(u)), None)
        if first is None or first.start == unit.start or len(first.text) > 60:
            return None
        return first

    # -- lists -------------------------------------------------------------------------------------
    def _enumeration(
        self, question: str, analysis: QuestionAnalysis, passages: Sequence[Passage], snapshot: IndexSnapshot
    ) -> Draft:
        asked = matching_text(question)
        # a phrase the question quotes from the documents ("按照“资金跟着项目走”的原则…") pins the clause it
        # asks about: a section it names only in part (原则 of 基本原则) does not answer it
        quoted = [letters(q) for q in quoted_phrases(asked_part(question))]
        pinned = any(q and q in letters(p.chunk.text) for q in quoted for p in passages[:3])
        if analysis.ordinal:
            # the section named in the message itself: a follow-up's carried subject ("…；它的保障措施呢？；那第二条
            # 呢？") names sections the message does not point into
            named = self._named_item(matching_text(analysis.text), analysis.ordinal, passages, snapshot)
            if named is not None:
                return named
        for passage in passages[:3]:
            chunk = passage.chunk
            doc_chunks = snapshot.chunks_of(chunk.doc_id)
            # the words that name the document ("苏州行动计划") do not name its sections ("行动目标")
            unnamed = _without_title_runs(asked, compact(to_simplified(chunk.title)))
            for depth in range(len(chunk.section_parts), 0, -1):
                parent = chunk.section_parts[:depth]
                children = _children(doc_chunks, parent)
                if len(children) < 2:
                    continue
                label = compact(strip_numbering(parent[-1]))
                share = _label_share(label, unnamed)
                if not analysis.ordinal and (share < LABEL_SHARE_MIN or (pinned and share < 1.0)):
                    continue  # the question does not name this section: the enumeration in a sentence answers
                if analysis.items_asked and len(children) != analysis.items_asked:
                    continue  # "哪三类" is not answered by a section of two items
                if analysis.ordinal:
                    return self._item(doc_chunks, depth, children, analysis.ordinal)
                units: list[Unit] = []
                continued: set[int] = set()
                items: list[str] = []
                for child in children:
                    first = next(c for c in doc_chunks if c.section_parts[: depth + 1] == child)
                    item_units = [
                        u
                        for u in units_of(first)
                        if u.chunk.section_parts[: depth + 1] == child
                        and compact(u.text) != compact(parent[-1])
                        and not _heading_above(u, depth + 1)
                    ]
                    if not item_units:
                        continue
                    items.append(PATH_SEPARATOR.join(child))
                    units.append(item_units[0])
                    if heading_depth(item_units[0]) is not None and len(item_units) > 1:
                        # a heading is no item on its own: the content under it comes along, on its line
                        continued.add(len(units))
                        units.append(item_units[1])
                return Draft(units=units, list_items=items, kind="list", continued=continued)
        return Draft()

    def _named_item(
        self, asked: str, ordinal: int, passages: Sequence[Passage], snapshot: IndexSnapshot
    ) -> Draft | None:
        """ "重点任务的第（二）项": the item of the section the question names, counted among that section's own
        items (not the items of a section under it); None when the question names no section."""
        for passage in passages[:3]:
            chunk = passage.chunk
            doc_chunks = snapshot.chunks_of(chunk.doc_id)
            unnamed = _without_title_runs(asked, compact(to_simplified(chunk.title)))
            for depth in range(1, len(chunk.section_parts) + 1):
                parent = chunk.section_parts[:depth]
                if _label_share(compact(strip_numbering(parent[-1])), unnamed) < 1.0:
                    continue
                children = _children(doc_chunks, parent)
                if children:
                    return self._item(doc_chunks, depth, children, ordinal)
        return None

    def _item(
        self, doc_chunks: Sequence[Chunk], depth: int, children: list[tuple[str, ...]], ordinal: int
    ) -> Draft:
        """The ordinal-th of a section's items (the sections one level under it), or the refusal that it has fewer."""
        if ordinal > len(children):
            return Draft(refusal_reason=f"本库收录的文本中，该部分只有{len(children)}项")
        child = children[ordinal - 1]
        units = [u for c in doc_chunks if c.section_parts[: depth + 1] == child for u in units_of(c)]
        return Draft(units=units[: self.max_units + 2], list_items=[PATH_SEPARATOR.join(child)])

    # -- document fields ---------------------------------------------------------------------------
    def _metadata(self, analysis: QuestionAnalysis, doc_ids: Sequence[str], snapshot: IndexSnapshot) -> Draft:
        found: list[Unit] = []
        for doc_id in doc_ids:
            summary = snapshot.documents.get(doc_id, {}).get("summary", {})
            units = [u for c in snapshot.chunks_of(doc_id) for u in units_of(c)]
            # whether a document still applies is answered with its period as well as its status
            wanted = [
                *analysis.metadata_fields,
                *(["period"] if "status" in analysis.metadata_fields else []),
            ]
            chunks = snapshot.chunks_of(doc_id)
            for field_name in dict.fromkeys(wanted):
                unit = _metadata_unit(field_name, summary, units)
                if unit is None and chunks and field_name in analysis.worded_fields:
                    # a field only the document's header gives (a fragment without its 落款): cite the header,
                    # when the question's words ask for it (a field read by meaning alone may be a misreading)
                    unit = _header_unit(field_name, summary, analysis, chunks[0])
                if unit is not None and unit not in found:
                    found.append(unit)
            missing = _missing_header_field(analysis, summary)
            if not found and missing:
                # a field only a document's header gives (文号, 发布日期…) that this document's text lacks: the
                # sentences of its body are no answer to it (its addressee line is not its date)
                return Draft(refusal_reason=missing)
        return Draft(units=found, kind="metadata")

    def section(self, chunks: Sequence[Chunk], section_path: str) -> Draft:
        """A whole (small) section, heading included: the answer to "那第二项呢？"."""
        units = [u for c in chunks for u in units_of(c)]
        return Draft(units=units[: self.max_units + 2], list_items=[section_path])


# the document fields only a header gives (front matter or the 【…】 lines), by the name a refusal uses
HEADER_FIELDS = {
    "doc_number": "文号",
    "published": "发布日期",
    "effective": "施行日期",
    "level": "效力等级",
    "status": "时效性标注",
    "topic": "主题分类",
}


DATE_FIELDS = ("published", "effective")
# a question that asks for the month or the day ("几月几日", "哪天", "what date") is not answered by a date the
# header gives as a year only; "哪年发布的" is
_DAY_ASKED = re.compile(r"[月日天号]|date|day|month", re.IGNORECASE)


_BOOK_TITLE = re.compile(r"《[^》]*》")
_YEAR_RANGE = re.compile(r"(?<!\d)(20\d\d)\s*年?\s*[-—–~～至到]\s*(20\d\d)(?!\d)")


def _range_years(question: str) -> set[int]:
    """The years of a span the question writes ("方案(2020-2022年)", "2020—2022年"): a period that names a document or
    asks for a span, not a year whose figure is asked."""
    return {int(y) for m in _YEAR_RANGE.finditer(compact(question)) for y in m.groups()}


def _own_words(text: str) -> str:
    """A sentence without the titles it cites: "落实《数字江苏发展规划(2018-2022年)》" gives no period of its own."""
    return _BOOK_TITLE.sub("《》", text)


def _missing_header_field(analysis: QuestionAnalysis, summary: dict[str, str]) -> str | None:
    """Why a header field the question asks for cannot be given: the document has none, or gives a date as a
    year while the question asks for the day."""
    for name in analysis.metadata_fields:
        if name not in HEADER_FIELDS:
            continue
        value = summary.get(name)
        if not value:
            return f"本库收录的该文件文本中没有{HEADER_FIELDS[name]}"
        if name in DATE_FIELDS and _year_only(value) and _DAY_ASKED.search(analysis.text):
            return f"本库收录的该文件只标注了年份（{str(value).strip().rstrip('年')}年），没有具体日期"
    return None


# the header fields a document's front matter (or the fields read from its text) can answer with, by their label
HEADER_LABELS = {
    "title": "标题",
    "issuer": "发文机关",
    "doc_number": "文号",
    "published": "发布日期",
    "effective": "施行日期",
    "period": "执行期",
    "status": "时效性（发布时）",
}
_SUMMARY_KEYS = {"status": "status_as_published"}
HEADER_SECTION = "文件信息"


def _header_unit(
    field_name: str, summary: dict[str, str], analysis: QuestionAnalysis, template: Chunk
) -> Unit | None:
    """The field as the document's header states it ("发文机关：江苏省人民政府办公厅"), cited as the header, for a
    field the body does not write; None when the header lacks it or gives less than is asked (a year for a day)."""
    label = HEADER_LABELS.get(field_name)
    value = str(summary.get(_SUMMARY_KEYS.get(field_name, field_name)) or "").strip()
    if label is None or not value:
        return None
    if field_name in DATE_FIELDS and _year_only(value) and _DAY_ASKED.search(analysis.text):
        return None
    text = f"{label}：{value}"
    chunk = replace(
        template,
        chunk_id=f"{template.doc_id}#header",
        section_parts=(HEADER_SECTION,),
        start=0,
        end=0,
        text=text,
        token_count=0,
        ordinal=-1,
        is_heading_only=False,
        extra={"source": "header"},
    )
    return Unit(chunk=chunk, start=0, end=0, text=text, is_heading=False)


def _year_only(value: str) -> bool:
    """A date field that gives the year and nothing finer ("2020")."""
    return bool(re.fullmatch(r"\s*\d{4}\s*年?\s*", str(value)))


def _metadata_unit(field_name: str, summary: dict[str, str], units: Sequence[Unit]) -> Unit | None:
    labels = _METADATA_LINES.get(field_name, ())
    for unit in units:
        if unit.text.startswith("【") and any(label in unit.compact for label in labels):
            value = unit.text.split("】", 1)[-1].strip()
            if value:
                return unit
    if field_name == "doc_number" and summary.get("doc_number"):
        wanted = compact(summary["doc_number"])
        return next((u for u in units if wanted in u.compact), None)
    if field_name == "title" and summary.get("title"):
        # the shortest line that carries the whole title (the notice's own heading, not a sentence citing it)
        wanted = compact(summary["title"])
        return min((u for u in units if wanted in u.compact), key=lambda u: len(u.text), default=None)
    if field_name == "issuer" and summary.get("issuer"):
        wanted = compact(summary["issuer"])
        return next((u for u in units if u.compact == wanted), None) or next(
            (u for u in units if wanted in u.compact and len(u.text) < 80), None
        )
    if field_name == "deadline":
        return next((u for u in units if _DEADLINE.search(_own_words(u.text))), None)
    if field_name == "period":
        # the plan's own "(2021—2023年)" line rather than a title that happens to contain it
        return min(
            (u for u in units if _PERIOD.search(_own_words(u.text))), key=lambda u: len(u.text), default=None
        )
    if field_name == "addressees":
        return next((u for u in units if u.text.startswith("各") and "人民政府" in u.text), None)
    if field_name in ("published", "effective"):
        return next((u for u in units if _DATE.search(u.text) and len(u.text) < 40), None)
    return None


MIN_NAMED = 3  # a count from which "which are they" asks for names the answer must list
_CLAUSE_SPLIT = re.compile(r"[，,。；;：:！!？?\n]")


def _count_not_enumerated(question: str, analysis: QuestionAnalysis, draft: Draft) -> int | None:
    """The count a list question refers to ("那15个产业园具体是哪些？") when the answer only restates it: its
    sentences write the number but list fewer than that many items (none of its clauses enumerates them)."""
    if not analysis.wants_list or not draft.units:
        return None
    # a target written in digits ("培育10个集群"); a set written in Chinese numerals ("三大行动", "四个方面") names
    # categories that a document lists in its sections or headings, which the clause check below cannot see
    asked = [n for n in counts_in(asked_part(question), digits_only=True) if n >= MIN_NAMED]
    if not asked:
        return None
    stated = {n for u in draft.units for n in counts_in(u.text)}
    listed = max(
        [len(draft.list_items)]
        + [c.count("、") + 1 for u in draft.units for c in _CLAUSE_SPLIT.split(to_simplified(u.text))]
    )
    return next((n for n in asked if n in stated and listed < n), None)


# documents answered for a question about "these documents" (in a bigger library, those retrieved first)
MAX_TOGETHER = 5


def _documents_asked_about(
    analysis: QuestionAnalysis, passages: Sequence[Passage], snapshot: IndexSnapshot
) -> list[str]:
    """The best passage's document; when the question names two places, the best document of each; when it asks
    about several documents together without naming them ("这四份文件各…"), that many (all, up to
    MAX_TOGETHER), those retrieved first."""
    ranked = list(dict.fromkeys(p.chunk.doc_id for p in passages))
    together = documents_together(analysis.text)
    if together is not None:
        wanted = min(together or len(snapshot.documents), MAX_TOGETHER)
        return list(dict.fromkeys([*ranked, *snapshot.documents]))[:wanted]
    named = named_document_groups(analysis.text, designated_documents(analysis.text, snapshot))
    per_place = named or documents_per_place(analysis, snapshot)
    if len(per_place) < 2:
        return ranked[:1]
    chosen: list[str] = []
    for documents in per_place:
        match = next((p.chunk.doc_id for p in passages if p.chunk.doc_id in documents), None)
        if match and match not in chosen:
            chosen.append(match)
    return chosen or ranked[:1]


def _heading_above(unit: Unit, level: int) -> bool:
    """The unit is the heading line of a section above `level` in its chunk's path (e.g. "二、重点任务")."""
    depth = heading_depth(unit)
    return depth is not None and depth < level - 1


def _adds_terms(terms: dict[str, float], unit: Unit, chosen: Sequence[Unit]) -> bool:
    """True when the unit contains a question word that none of the chosen units contains."""
    return any(unit_score({t: 1.0}, unit) and not any(unit_score({t: 1.0}, u) for u in chosen) for t in terms)


def _children(doc_chunks: Sequence[Chunk], parent: tuple[str, ...]) -> list[tuple[str, ...]]:
    seen: list[tuple[str, ...]] = []
    for chunk in doc_chunks:
        parts = chunk.section_parts
        if len(parts) > len(parent) and parts[: len(parent)] == parent:
            child = parts[: len(parent) + 1]
            if child not in seen:
                seen.append(child)
    return seen


# what an English "how many" counts: the words up to the verb ("how many 5G base stations will…")
_HOW_MANY = re.compile(
    r"\bhow many\s+((?:[\w-]+\s+){0,3}?[\w-]+?)(?=\s+(?:will|would|does|do|did|are|is|were|was|should|shall|must|"
    r"can|could|has|have|to|in|by|under|for)\b|[?.!]|$)",
    re.IGNORECASE,
)
_MEASURE = re.compile(r"^[个座项条家所台套批次处名人万亿]+")
_NOUN_END = re.compile(r"[，,。？?！!；;：:、和及与呢吗]")
# the verb between a measured noun and 多少 ("…覆盖率要达到多少", "…处理能力是多少")
_MEASURED_VERB = re.compile(
    r"(?:分别|各自?)?(?:要|能|将|应|会|需要?|预计)?(?:达到|提高到|提升到|增加到|超过|[高低大小多少]于|不[高低大小多少]于|是|为|有|达)?"
    r"(?:百分之)?$"
)
# a time before what is measured ("到2025年…", "2024年底前…") says when, not what
_LEADING_TIME = re.compile(r"^(?:到|至|截至|截止)?(?:19|20)\d\d年(?:年?底|末)?(?:前|时)?")
# a figure written in Chinese numerals ("零点零一克", "一百千克", "一吨"), beside what `has_number` finds
_CHINESE_FIGURE = re.compile(
    r"[零〇一二两三四五六七八九十百千万亿]{2,}|[零〇一二两三四五六七八九十]点|[一二两三四五六七八九十][克吨米元天倍成]"
)
_ARTICLE_NUMBER = re.compile(r"^\s*第[零〇一二两三四五六七八九十百千\d]+条(?:之[一二三四五六七八九十]+)?")
# a figure asked for each of several ("两项指标分别是多少", "各要达到多少")
_EACH_FIGURE = re.compile(r"(?:分别|各自?)(?:是|为|有|要|能|将|达到|定为?)*多少")
# words for an amount itself, not for what is counted ("…建设数量是多少")
_AMOUNT = re.compile(r"数量|总量|个数|数目|总数|水平|程度|\d+")
_CLAUSE_BREAK = re.compile(r"[，,；;。：:！!？?]")  # the number of a counted noun stands in the noun's clause
# 几个 in a list question may count things ("要建几个充电站"), not only kinds; 哪几个 asks which ones
_THINGS_COUNTED = re.compile(r"(?<!哪)几个")


def _passages_of_year_asked(
    question: str,
    analysis: QuestionAnalysis,
    terms: dict[str, float],
    units: Sequence[Unit],
    passages: Sequence[Passage],
) -> list[Passage]:
    """When a figure is asked for a year the chosen sentences do not name, the retrieved passages with a sentence
    that names the year, gives a figure besides it and writes one of the question's words (none: keep the draft)."""
    if not analysis.wants_quantity or analysis.wants_list:
        return []
    years = [str(y) for y in analysis.years if y not in _range_years(question)]
    if not years or any(y in u.text for y in years for u in units):
        return []
    return [
        p
        for p in passages
        if any(
            any(y in u.text for y in years)
            and _gives_figure(YEAR.sub("", _figures_text(u)))
            and unit_score(terms, u) > 0
            for u in units_of(p.chunk)
            if not u.is_heading
        )
    ]


def _figures_of_another_subject(question: str, terms: dict[str, float], units: Sequence[Unit]) -> bool:
    """The chosen units that give a figure write none of the question's content words (places and figures
    aside), neither in the sentence nor in its section's heading: their figures are of something else."""
    places = set(place_names(question, inside_words=True))
    subject = {t: w for t, w in terms.items() if t not in places and not any(c.isdigit() for c in t)}
    with_years = _asks_years(question)
    figures = [u for u in units if not u.is_heading and _gives_figure(_figures_text(u, with_years))]
    if not subject or not figures:
        return False
    return not any(unit_score(subject, u) > 0 or unit_score(subject, _heading_unit(u)) > 0 for u in figures)


def _heading_unit(unit: Unit) -> Unit:
    """A unit whose text is the section path of the unit's chunk (its headings, for matching words)."""
    path = PATH_SEPARATOR.join(unit.chunk.section_parts)
    return Unit(chunk=unit.chunk, start=0, end=len(path), text=path, is_heading=True)


def _siblings(a: str, b: str) -> bool:
    """Two codes of one series, differing in one digit or one letter: 4G and 5G, IPv4 and IPv6, PUE and WUE."""
    a, b = a.lower(), b.lower()
    if len(a) != len(b) or a == b:
        return False
    differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(differing) == 1 and differing[0][0].isdigit() == differing[0][1].isdigit()


def _sibling_code(question: str, terms: dict[str, float], units: Sequence[Unit]) -> tuple[str, str] | None:
    """A code the question asks about (6G) and its sibling (5G) written instead of it in the chosen sentence that
    matches the rest of the question best, when that sentence does not write the code asked and the question does
    not ask about the sibling too."""
    asked = code_names(asked_clauses(question))
    sentences = [u for u in units if not u.is_heading]
    if not asked or not sentences:
        return None
    lowered = {c.lower() for c in asked}
    rest = {t: w for t, w in terms.items() if t.lower() not in lowered}
    anchor = max(sentences, key=lambda u: unit_score(rest, u))
    written = compact(to_simplified(anchor.text))
    for code in asked:
        if code.lower() in written:
            continue
        for other in code_names(to_simplified(anchor.text)):
            if other.lower() not in lowered and _siblings(code, other):
                return code, other
    return None


def _counted_noun(question: str, vocabulary: set[str] | None = None) -> str | None:
    """What a "how many" question counts or measures: the words right after 多少/几 and its measure word
    ("要建几座污水厂" → 污水厂); with nothing after the question word, the noun before it, its head after the last
    的 ("…管网的覆盖率能达到多少" → 覆盖率); in English, the library's word for what follows "how many"
    ("how many sewage plants" → 污水厂)."""
    english = _HOW_MANY.search(question)
    if english is not None and vocabulary is not None:
        span = english.group(1)
        glossary = [
            t for t in tokenize(span, expand=False, search_mode=False) if not t.isascii() and t in vocabulary
        ]
        readings = glossary or [r[0] for r in chinese_terms(span, vocabulary.__contains__)]
        return readings[0] if readings else None
    contexts = cloze_contexts(question)
    if contexts is None:
        return None
    noun = _NOUN_END.split(_MEASURE.sub("", contexts[1]), maxsplit=1)[0]
    if 2 <= len(noun) <= 8:
        return noun
    if contexts[1]:
        return None
    # nothing after the question word: what is measured stands before it ("…污水处理能力要达到多少"), its
    # head after the last 的 ("…改造后的处理能力")
    measured = _MEASURED_VERB.sub("", _CLAUSE_BREAK.split(contexts[0])[-1]).rsplit("的", 1)[-1]
    measured = _LEADING_TIME.sub("", measured)
    for place in place_names(measured):
        if measured.startswith(place):  # "苏州污水处理率": the place says where, not what
            measured = measured[len(place) :]
    return measured if 2 <= len(measured) <= 12 else None


def _as_written(words: str, question: str) -> str:
    """Words read from a normalised question ("5g充电站") as the question writes them ("5G充電站")."""
    simplified = to_simplified(question)
    start = simplified.lower().find(words.lower())
    if start < 0 or len(simplified) != len(question):
        return words
    return question[start : start + len(words)]


def _gives_figure(clause: str) -> bool:
    """A figure in digits or Chinese numerals, in a clause as written or normalised ("5g" is a name too)."""
    return has_number(clause, ignore=_NOT_COUNTS_ANY_CASE) or bool(_CHINESE_FIGURE.search(clause))


_NOT_COUNTS_ANY_CASE = tuple(dict.fromkeys(NOT_COUNTS + tuple(n.lower() for n in NOT_COUNTS)))


def _figures_text(unit: Unit, with_years: bool = True) -> str:
    """A unit's text as figures are looked for in it: normalised, without its heading's or article's number
    ("2.优化…", "第六条 …"), and without its years and 文号 (鲁政字〔2020〕228号) unless `with_years`."""
    text = compact(to_simplified(_ARTICLE_NUMBER.sub("", strip_numbering(unit.text))))
    return text if with_years else YEAR.sub("", DOC_NUMBER.sub("", text))


# a quantity asked in years ("实施期是几年", "期限多少年"): a year range is its figure
_YEARS_ASKED = re.compile(r"(?:多少|几)个?年|年份|年限|期限|how many years")


def _asks_years(question: str) -> bool:
    return bool(_YEARS_ASKED.search(compact(to_simplified(question)).lower()))


def _counted_in(
    noun: str,
    units: Sequence[Unit],
    vocabulary: set[str] | None = None,
    generic: frozenset[str] = frozenset(),
) -> bool:
    """True unless a chosen unit names the counted noun and no clause naming it has a figure: the sentence then
    counts something else ("…污水厂提标改造,…新增绿地30公顷" for "几座污水厂"). A noun the units never write
    whole is named by the library's words inside it ("多少个港口码头" → 港口, 码头): a sentence must name them all
    and give the figure in the clause naming the last of them, its head."""
    if _AMOUNT.fullmatch(noun):
        return True  # "…提升到什么程度": the amount itself is asked, not something it counts
    clauses = [c for u in units for c in _CLAUSE_BREAK.split(_figures_text(u))]
    naming = [c for c in clauses if noun in c]
    if naming or vocabulary is None:
        return not naming or any(_gives_figure(c) for c in naming)
    places = set(place_names(noun, inside_words=True))
    parts = [
        p
        for p in dict.fromkeys(tokenize(noun, expand=False, search_mode=False))
        if len(p) >= 2
        and p in vocabulary
        and p not in places
        and p not in generic
        and not _AMOUNT.fullmatch(p)
    ]
    if not any(p in c for p in parts for c in clauses):
        return True
    # a sentence that names all of it, with a figure in a clause naming its head (its last word: 覆盖率 in
    # 雨污管网覆盖率)
    for unit in units:
        text = _figures_text(unit)
        if all(p in text for p in parts) and any(
            parts[-1] in c and _gives_figure(c) for c in _CLAUSE_BREAK.split(text)
        ):
            return True
    return False


def _places_not_given(
    question: str,
    analysis: QuestionAnalysis,
    units: Sequence[Unit],
    passages: Sequence[Passage],
    snapshot: IndexSnapshot,
) -> list[str]:
    """The places a figure is asked for that are neither the place of a quoted sentence's document nor named by a
    quoted sentence (an English name counts as the Chinese places it may be: "Qingdao" → 青岛). A city's share
    of a province's target ("全省新建10万个充电桩，某市分到多少") is not given by the province's document, though the
    library holds a document of that city."""
    own = LibraryPlaces.of(snapshot).by_place  # cached per index version
    quoted = compact(to_simplified(" ".join(u.text for u in units)))
    cited = {u.chunk.doc_id for u in units}
    searched = {p.chunk.doc_id for p in passages}

    def given(place: str) -> bool:
        documents = own.get(canonical_place(place), frozenset())
        # a place whose documents were not searched (a comparison answered one document at a time: "苏州和全省
        # 分别…" asked of the province's plan) is another part's to give
        return bool(documents & cited) or (bool(documents) and not documents & searched)

    # an English name is one place however many Chinese places it may be ("Suzhou": 苏州 or 宿州)
    chinese = [] if is_english(question) else [(p, (p,)) for p in analysis.places]
    asked = chinese + english_place_names(asked_part(question))
    return [name for name, readings in asked if not any(given(r) or compact(r) in quoted for r in readings)]


TITLE_RUN_MIN = 3  # a run of the question this long found in the document's title names the document


def _without_title_runs(asked: str, title: str) -> str:
    """The question without the runs of TITLE_RUN_MIN or more characters that it shares with the document's title
    (each replaced by a break, so the parts around it do not join)."""
    out, i = [], 0
    while i < len(asked):
        j = i + TITLE_RUN_MIN
        if j <= len(asked) and asked[i:j] in title:
            while j < len(asked) and asked[i : j + 1] in title:
                j += 1
            out.append("|")
            i = j
        else:
            out.append(asked[i])
            i += 1
    return "".join(out)


_TITLES: dict[str, str] = {}


def _library_titles(snapshot: IndexSnapshot) -> str:
    """Every document's title (compact, simplified), joined by breaks; cached per index version."""
    titles = _TITLES.get(snapshot.version)
    if titles is None:
        # a local value, not a second lookup: another thread may clear the cache for a newer version meanwhile
        titles = "|".join(
            compact(to_simplified(e.get("summary", {}).get("title", ""))) for e in snapshot.documents.values()
        )
        _TITLES.clear()
        _TITLES[snapshot.version] = titles
    return titles


def _without_places(question: str, places: Sequence[str]) -> str:
    """The question (compact, simplified) with the places it names replaced by a break: a place says where, not
    which clause ("苏州城市治理…" is not a six-character match for "为苏州城市治理提供…")."""
    asked = compact(to_simplified(question))
    for place in places:
        asked = asked.replace(compact(place), "|")
    return asked


def _longest_shared_run(a: str, b: str, naming: str = "") -> int:
    """The length of the longest run of characters two texts share, leaving out a run found in `naming` (the
    documents' titles: "江苏数据要素意见" names a document, and a sentence that repeats 数据要素 is no closer to the
    answer for it; a term in no title counts)."""
    best = 0
    for i in range(len(a)):
        j = i + 1
        while j <= len(a) and a[i:j] in b:
            j += 1
        run = a[i : j - 1]
        if len(run) > best and run not in naming:
            best = len(run)
    return best


def _with_fact_asked(draft: Draft, answer_types: Sequence[str]) -> Draft:
    """The draft with the sentence of its first passage that gives the kind of fact asked for, when no quoted
    sentence does ("…由哪些单位负责" answered by a task's first sentences: its closing "(责任单位:…)" comes along)."""
    if not draft.units:
        return draft
    for kind in answer_types:
        evidence = ANSWER_TYPE_EVIDENCE[kind]
        if kind not in FACT_FORMS or any(evidence.search(u.compact) for u in draft.units):
            continue
        first = draft.units[0].chunk
        giving = next(
            (
                u
                for u in units_of(first)
                if not u.is_heading and evidence.search(u.compact) and u not in draft.units
            ),
            None,
        )
        if giving is not None:
            units = sorted([*draft.units, giving], key=lambda u: (u.chunk.doc_id != first.doc_id, u.start))
            draft = replace(draft, units=units)
    return draft


def _is_sentence(unit: Unit) -> bool:
    """A unit that says something: it ends like a sentence, or is long enough to be one (not "正文", not a name).
    A label the question itself quotes (a 文号 asked "是哪份文件？") is what it asks about, and counts."""
    text = unit.text.rstrip()
    return len(compact(text)) >= SENTENCE_CHARS or text.endswith(SENTENCE_STOPS)


def _bodies_not_named(question: str, units: Sequence[Unit], snapshot: IndexSnapshot) -> list[str]:
    """The government bodies the question names that no document of the answer mentions (the documents' text is
    only read for a question that names one)."""
    bodies = named_bodies(question)
    if not bodies:
        return []
    texts = [
        compact(snapshot.documents.get(d, {}).get("text", ""))
        for d in dict.fromkeys(u.chunk.doc_id for u in units)
    ]
    return [body for body in bodies if not any(body in text for text in texts)]


NAMED_SECTION_MIN = 4  # characters: a shorter section name (目标, 任务) is a word, not a name


def _section_name(part: str) -> str:
    """A section path part without its numbering and closing stop ("2.優化布局數據中心。" → 優化布局數據中心)."""
    return strip_numbering(part).rstrip("。.；;：:")


def _named_sections(
    question: str, passages: Sequence[Passage], snapshot: IndexSnapshot
) -> list[tuple[str, tuple[str, ...]]]:
    """The sections (document id, path) of the retrieved passages' documents whose whole name the question
    repeats, leaving out the words that name the document ("苏州行动计划") and generic words; the deepest
    section when a name and its parent's are both repeated."""
    asked = matching_text(question)
    found: dict[tuple[str, tuple[str, ...]], None] = {}
    for doc_id in dict.fromkeys(p.chunk.doc_id for p in passages[:SENTENCE_PASSAGES]):
        chunks = snapshot.chunks_of(doc_id)
        if not chunks:
            continue
        unnamed = _without_title_runs(asked, compact(to_simplified(chunks[0].title)))
        for chunk in chunks:
            for depth in range(1, len(chunk.section_parts) + 1):
                label = compact(to_simplified(_section_name(chunk.section_parts[depth - 1])))
                if len(label) >= NAMED_SECTION_MIN and label not in GENERIC_TERMS and label in unnamed:
                    found[(doc_id, chunk.section_parts[:depth])] = None
    paths = list(found)
    return [
        (doc, path)
        for doc, path in paths
        if not any(d == doc and len(q) > len(path) and q[: len(path)] == path for d, q in paths)
    ]


def _label_share(label: str, question: str) -> float:
    """The share of a section's name that the question repeats in one piece (its longest run of characters
    found in the question, at least two): 1.0 for "基本原则是哪几条" under 基本原则, 0.2 when only 设施 of
    信息基础设施建设行动 is in it. A run that is only a generic word (措施, 目标) names no section: "扶持措施" is
    not 保障措施."""
    longest = 0
    for i in range(len(label)):
        for j in range(len(label), i + max(longest, 1), -1):
            if label[i:j] in question and label[i:j] not in GENERIC_TERMS:
                longest = j - i
                break
    return longest / len(label) if len(label) >= 2 and longest >= 2 else 0.0
