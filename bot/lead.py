"""The model's lead over the extract: where it ends, whether it declined, and the check it must pass.

The lead is one or two sentences; whatever the model writes after them is not shown. It passes only when
every sentence cites, every [n] is one of the evidence sentences it was given, every number, date and 文号 in it
appears in the sentences it cites (or in the document facts shown with the extract), and what it adds to the
question is worded from the sentences it cites (a lead that only restates the question, or says something the
cited sentences do not, is not shown)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from bot.prompts import LEAD_DECLINE
from bot.verify import CITE_HINT, MARKER, Verification, facts_in, normalise_dates, verify
from retrieval import lexical
from retrieval.normalize import compact, to_simplified

# what a rejected lead's writer is told (bot.verify.Verification.hints): the kind of fault, never its words
ANSWER_HINT = "不要复述问题，要用所引原文的话说出问题的答案"
WORDING_HINT = "用了原文没有的说法，请改用所引原文句子中的原话"
COMPARISON_HINT = "原文没有作这样的比较，请分别写出各自原文的内容，不要自己下比较的结论"
SHORT_HINT = "回答太长，只写一到两句"
DOCUMENT_HINT = "句中说到哪份文件，就要引用那份文件自己的原文句子，不要把一份文件的内容说成另一份的"

MAX_SENTENCES = 2
MAX_CHARS = 300
# a sentence ends at 。！？ (or . ! ? followed by a space/end in English), with the [n] markers after it
_SENTENCE_END = re.compile(r"(?:[。！？]|[.!?](?=\s|$|\[))(?:\s*\[\d+\])*")
_DECLINES = ("原文不足以回答", "无法回答", "未提及", "没有提及", "无法确定", "cannot answer", "not mentioned")


def lead_sentences(text: str, limit: int = MAX_SENTENCES) -> str:
    """The first `limit` sentences of the model's text (all of it when it has fewer), trimmed."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    cut = ends[limit - 1] if len(ends) >= limit else len(text)
    return text[:cut].strip()


def is_complete(text: str, limit: int = MAX_SENTENCES) -> bool:
    """The model has written `limit` sentences and moved on (what follows the last end is not a [n] marker):
    reading more would only be cut off."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if len(ends) < limit:
        return len(text) > MAX_CHARS
    rest = text[ends[limit - 1] :].lstrip()
    return bool(rest) and not rest.startswith("[")


def declined(text: str) -> bool:
    """The model said the evidence does not answer (the gate already judged that it does)."""
    flat = compact(text).lower()
    return compact(LEAD_DECLINE) in flat or (
        not re.search(r"\[\d+\]", text) and any(compact(d).lower() in flat for d in _DECLINES)
    )


ATTRIBUTION_MIN = (
    0.5  # share of a sentence's character pairs one evidence sentence must hold to be its source
)


_RUN = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]+")
# a one-character item of an enumeration ("天、空、地", "水、电、气") is a word of its own: it has no pair
_SINGLE_ITEM = re.compile(
    r"(?<![\u4e00-\u9fff])[\u4e00-\u9fff](?=、)|(?<=、)[\u4e00-\u9fff](?![\u4e00-\u9fff])"
)


@functools.lru_cache(maxsize=4096)
def _pairs(text: str) -> frozenset[str]:
    """Adjacent character pairs within the words of a text (`lexical.search_words`: jieba's search mode, which
    also gives the shorter words inside long ones, and the glossary's Chinese for English words, so an English
    question's words count as their Chinese ones), not across punctuation or from one word into the next:
    "把农业纳入" holds 农业 and 纳入, not the 把农 and 业纳 that would make a reworded sentence look unlike its
    source. A one-character item of an enumeration ("天、空、地") counts as itself."""
    flat = normalise_dates(compact(text)).lower()
    runs = _RUN.findall(flat)
    pairs = {
        word[i : i + 2] for run in runs for word in lexical.search_words(run) for i in range(len(word) - 1)
    }
    return frozenset(pairs | set(_SINGLE_ITEM.findall(flat)))


def attribute(
    lead: str, evidence: Sequence[str], facts: str = "", question: str = "", titles: Sequence[str] = ()
) -> str:
    """The lead with its sources made explicit. A sentence keeps its markers when they are evidence numbers and
    the sentences they name hold its facts and (for Chinese) at least half of its own wording; otherwise (no
    marker, a number the evidence does not have, small models copy the example's, or the heading or title line
    cited instead of the sentence under it) it gets the [n] of the evidence sentence that holds all its facts and
    most of its wording, or its facts alone when only one sentence has them all. Wording is counted in character
    pairs, without those of the question and of what is printed with the extract. A sentence no evidence
    sentence covers stays uncited, and the check then rejects the lead. `facts` and `titles` are as for
    `check_lead`: a sentence that names a document is held only by that document's sentences."""
    out = []
    shown = _shown(facts, titles)
    chinese = _chinese(lead)
    for sentence in sentences(lead):
        numbers = _markers(sentence)
        figures = set(facts_in(sentence)) - set(facts_in(shown))
        pairs = _wording(sentence, question, shown)
        if numbers and all(1 <= n <= len(evidence) for n in numbers):
            cited = [evidence[n - 1] for n in numbers]
            held = set().union(*(facts_in(e) for e in cited))
            wording = _cited(numbers, evidence, facts, titles)
            if figures <= held and (not chinese or _covered(pairs, wording) >= ATTRIBUTION_MIN):
                out.append(sentence)
                continue
        sentence = MARKER.sub("", sentence)
        sources = _sources(pairs, figures, evidence)
        if sources:
            body = sentence.rstrip("。！？.!? ")
            markers = "".join(f"[{k + 1}]" for k in sources)
            sentence = f"{body}{markers}{sentence[len(body) :].strip()}"
        out.append(sentence)
    return "".join(out)


MAX_SOURCES = (
    4  # evidence sentences one lead sentence may be attributed to (a list summed up in one sentence)
)


def _sources(pairs: AbstractSet[str], facts: set[str], evidence: Sequence[str]) -> list[int]:
    """The evidence sentences (0-based, in order) a sentence comes from: the one that holds all its facts and
    at least half of its wording, else the fewest (greedily, up to MAX_SOURCES) that together do; or, for a
    sentence with facts, the only sentence that holds them all. Empty when nothing holds it."""
    holders = [k for k, e in enumerate(evidence) if facts <= set(facts_in(e))]
    if facts and len(holders) == 1:
        return holders
    chosen: list[int] = []
    covered: set[str] = set()
    while len(chosen) < MAX_SOURCES and pairs:
        gains = {k: len((pairs & _pairs(e)) - covered) for k, e in enumerate(evidence) if k not in chosen}
        best = max(gains, key=gains.__getitem__, default=None)
        # a further sentence joins only for a part of its own (a further list item: a word or more)
        if best is None or gains[best] < (2 if chosen else 1):
            break
        chosen.append(best)
        covered |= pairs & _pairs(evidence[best])
    held = set().union(*(facts_in(evidence[k]) for k in chosen)) if chosen else set()
    if pairs and len(covered) >= ATTRIBUTION_MIN * len(pairs) and facts <= held:
        return sorted(chosen)
    return []


# a question answered by yes or no: a lead that restates it is its "yes"
_YES_NO = re.compile(
    r"吗\s*[？?。!！]*\s*$|是否|有没有|是不是|能不能|会不会|要不要|可否|能否|([\u4e00-\u9fff])不\1|"
    r"^\s*(?:is|are|does|do|did|can|will|has|have|was|were|should)\b",
    re.IGNORECASE,
)


RESTATED_PAIRS = 3  # a sentence adding fewer character pairs than this to a yes/no question restates it


def is_yes_no(question: str) -> bool:
    return bool(_YES_NO.search(to_simplified(question)))


# words that only say where a claim comes from ("原文提到…", "文件指出…"): they add nothing the evidence must hold
_FRAMING = frozenset({"原文", "文件", "提到", "指出"})  # two-character words: each is its only pair


def _own(sentence: str) -> AbstractSet[str]:
    """A sentence's character pairs, without its markers and its framing words."""
    return _pairs(MARKER.sub("", sentence)) - _FRAMING


def _wording(sentence: str, question: str, shown: str) -> AbstractSet[str]:
    """The sentence's own character pairs: without the question's and the shown titles'. A sentence that only
    restates the question is its own answer only to a yes/no question, and then all its wording (but the
    titles') counts, so a restated false premise is not supported by its source. A sentence whose only
    addition is a shown title or field (which document set a goal, the period) answers with it: all its pairs
    beyond the question's count (the shown text holds them). Otherwise it is what little it adds, or empty (no
    answer: the check rejects it)."""
    new = _new_pairs(sentence, question, shown)
    if len(new) >= RESTATED_PAIRS:
        return new
    if is_yes_no(question):
        own = _own(sentence)
        return (own - _pairs(shown)) or own  # a "yes" worded from the shown fields is checked against them
    from_shown = _own(sentence) - _pairs(question)
    if len(from_shown) >= RESTATED_PAIRS or (len(from_shown) > 1 and from_shown <= _pairs(shown)):
        return from_shown  # a short field value ("现行有效": two words) is an answer when the fields hold it
    return new


def _covered(pairs: AbstractSet[str], text: str) -> float:
    return len(pairs & _pairs(text)) / len(pairs) if pairs else 1.0


SUPPORT_MIN = 0.5  # share of the lead's own words (not the question's) that its cited sentences hold


def _new_pairs(lead: str, question: str, shown: str) -> AbstractSet[str]:
    """The lead's character pairs that neither the question nor the shown titles and fields have."""
    return _own(lead) - _pairs(question) - _pairs(shown)


def _chinese(text: str) -> bool:
    """Mostly Chinese (an English lead over Chinese evidence cannot be compared character by character)."""
    plain = MARKER.sub("", text)
    return len(re.findall(r"[\u4e00-\u9fff]", plain)) >= len(re.sub(r"\s", "", plain)) / 2


def _markers(text: str) -> list[int]:
    return [int(n) for n in MARKER.findall(text)]


def support(lead: str, cited: str, question: str = "", shown: str = "") -> float | None:
    """The share of the lead's own wording (see `_wording`) that the cited text holds; None for a lead that is
    mostly not Chinese (an English lead over Chinese evidence cannot be compared character by character)."""
    if not _chinese(lead):
        return None
    return _covered(_wording(lead, question, shown), cited)


NAMED_RUNS = 2  # a clause with this many separate runs of the pairs only one title has names that document


_CLAUSE = re.compile(r".*?(?:\[\d+\])+[，,；;。！？.!?]*|.+$", re.S)


def _cited_clauses(sentence: str) -> list[str]:
    """The sentence cut after each group of [n] markers: "A说…[1]，B说…[2]。" cites per clause."""
    return [m.group(0) for m in _CLAUSE.finditer(sentence) if m.group(0).strip()]


def _uncited_documents(clause: str, evidence: Sequence[str], titles: Sequence[str]) -> list[str]:
    """The documents (titles) the clause names that none of its cited sentences comes from or mentions: with
    sentences of several documents, "the guideline sets 11.2万[2]" where [2] is the plan's is a figure moved to
    another document, and the number and wording checks cannot see it. A title's own pairs are those no other
    title of the evidence has (a place or "三年行动" shared by two is no name), and a name is two separate runs of
    them ("淄博…计划", "数字…指导意见"): one word such as 新基建, which people use for either document, is not."""
    distinct = list(dict.fromkeys(titles))
    if len(distinct) < 2:
        return []
    own = _own(clause)
    flat = normalise_dates(compact(MARKER.sub("", clause))).lower()
    valid = [n for n in _markers(clause) if 1 <= n <= len(evidence)]
    cited_titles = {titles[n - 1] for n in valid if n <= len(titles)}
    cited_text = _pairs(" ".join(evidence[n - 1] for n in valid))
    named = []
    for title in distinct:
        others = set().union(*(_pairs(t) for t in distinct if t != title))
        words = own & (_pairs(title) - others)
        at = {i for i in range(len(flat) - 1) if flat[i : i + 2] in words}
        runs = sum(1 for i in at if i - 1 not in at)
        if runs >= NAMED_RUNS and title not in cited_titles and not words <= cited_text:
            named.append(title)
    return named


def _shown(facts: str, titles: Sequence[str]) -> str:
    """Everything printed with the extract: the document fields and every cited document's title."""
    return " ".join([facts, *dict.fromkeys(titles)]).strip()


def _cited(numbers: Sequence[int], evidence: Sequence[str], facts: str, titles: Sequence[str]) -> str:
    """What a sentence citing `numbers` may be worded from: those sentences, their documents' titles (all
    shown titles when `titles` is not given, as `facts` then holds them) and the document fields."""
    valid = [n for n in numbers if 1 <= n <= len(evidence)]
    own = [titles[n - 1] for n in valid if n <= len(titles)]
    return " ".join([*(evidence[n - 1] for n in valid), *own, facts])


def check_lead(
    lead: str, evidence: Sequence[str], facts: str = "", question: str = "", titles: Sequence[str] = ()
) -> Verification:
    """`evidence[n-1]` is the sentence [n]; `facts` holds the document fields shown beside the extract (and the
    titles, when `titles` does not give the title of each sentence's document)."""
    shown = _shown(facts, titles)
    if not lead:
        return Verification(False, ["the model wrote nothing"], hints=[ANSWER_HINT])
    if len(lead) > MAX_CHARS:
        return Verification(
            False, [f"the lead is {len(lead)} characters long (at most {MAX_CHARS})"], hints=[SHORT_HINT]
        )
    check = verify(lead, evidence, facts=shown)
    # sentence by sentence, against the sentences each one cites (a true sentence cannot carry another): what a
    # Chinese sentence adds to the question must be worded from them; a sentence that only restates the question
    # (a yes to a yes/no question, or no answer at all) must be worded from them as a whole; a comparison it
    # draws must be stated in them
    chinese = _chinese(lead)
    for sentence in sentences(lead):
        cited = _cited(_markers(sentence), evidence, facts, titles)
        pairs = _wording(sentence, question, shown) if chinese else None
        if pairs is not None and not pairs:
            check.fail(f"{sentence[:30]!r} only restates the question", ANSWER_HINT)
        elif pairs and (share := _covered(pairs, cited)) < SUPPORT_MIN:
            check.fail(
                f"only {share:.0%} of the wording of {sentence[:30]!r} is in the sentences it cites",
                WORDING_HINT,
            )
        other = [
            t for clause in _cited_clauses(sentence) for t in _uncited_documents(clause, evidence, titles)
        ]
        if other:
            check.fail(f"{sentence[:30]!r} names {other[0]!r} but cites none of its sentences", DOCUMENT_HINT)
        unsupported = [c for c in _comparisons(sentence) if c not in _comparisons(cited)]
        if unsupported:
            check.fail(
                f"{sentence[:30]!r} compares ({unsupported[0]}) where its sources do not", COMPARISON_HINT
            )
    uncited = [s for s in sentences(lead) if not MARKER.search(s)]
    if uncited:
        check.fail(f"a sentence without a [n] citation: {uncited[0][:40]!r}", CITE_HINT)
    return check


# a comparison ("更早", "多于", "earlier than") is a conclusion the model draws, and the check cannot tell a right
# one from a wrong one: a lead may state one only where the sentences it cites state it
_COMPARISON = re.compile(
    r"更[早晚多少高低大小快慢长短强]|(?:早|晚|多|少|高|低|大|小|优|领先|落后)于|"
    r"\b(?:earlier|later|more|less|fewer|higher|lower|larger|smaller|greater)\s+than\b|\b(?:earliest|latest)\b",
    re.IGNORECASE,
)


def _comparisons(text: str) -> set[str]:
    return {m.group(0).lower() for m in _COMPARISON.finditer(to_simplified(text))}


def sentences(text: str) -> list[str]:
    """The text's sentences, each with the [n] markers that follow it."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]
