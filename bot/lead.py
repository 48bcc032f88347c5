"""The model's lead over the extract: where it ends, whether it declined, and the check it must pass.

The lead is one or two sentences; whatever the model writes after them is not shown. It passes only when
every sentence cites, every [n] is one of the evidence sentences it was given, every number, date and 文号 in it
appears in the sentences it cites (or in the document facts shown with the extract), and what it adds to the
question is worded from the sentences it cites (a lead that only restates the question, or says something the
cited sentences do not, is not shown)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.prompts import LEAD_DECLINE
from bot.verify import MARKER, Verification, facts_in, normalise_dates, verify
from retrieval.normalize import compact

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


ATTRIBUTION_MIN = 0.5  # share of a sentence's character pairs one evidence sentence must hold to be its source


_RUN = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]+")


def _pairs(text: str) -> set[str]:
    """Adjacent character pairs within each run of letters/digits/Chinese (not across punctuation)."""
    runs = _RUN.findall(normalise_dates(compact(text)).lower())
    return {run[i : i + 2] for run in runs for i in range(len(run) - 1)}


def attribute(lead: str, evidence: Sequence[str], shown: str = "") -> str:
    """The lead with its sources made explicit: a sentence whose markers are all evidence numbers keeps them;
    a sentence with none, or with a number the evidence does not have (small models copy the example's), gets
    the [n] of the evidence sentence that holds at least half of its character pairs (those of `shown`, the
    titles printed with the extract, not counted). A sentence no evidence sentence covers stays uncited, and the
    check then rejects the lead."""
    out = []
    known = _pairs(shown)
    for sentence in sentences(lead):
        numbers = _markers(sentence)
        facts = set(facts_in(sentence)) - set(facts_in(shown))
        pairs = _pairs(MARKER.sub("", sentence)) - known
        if numbers and all(1 <= n <= len(evidence) for n in numbers):
            cited = [evidence[n - 1] for n in numbers]
            held = set().union(*(facts_in(e) for e in cited))
            if facts <= held and (not pairs or _covered(pairs, " ".join(cited)) >= ATTRIBUTION_MIN):
                out.append(sentence)
                continue
        # no marker, a number the evidence does not have, or the facts and wording are in another sentence than
        # the one cited (a heading, the title line): the source is the evidence sentence that holds all of the
        # sentence's facts and most of its wording (its facts alone, when only one sentence has them all)
        sentence = MARKER.sub("", sentence)
        holders = [k for k, e in enumerate(evidence) if facts <= set(facts_in(e))]
        shares = {k: _covered(pairs, evidence[k]) for k in holders}
        best = max(shares, key=shares.__getitem__, default=None)
        if best is not None and (shares[best] >= ATTRIBUTION_MIN or (facts and len(holders) == 1)):
            body = sentence.rstrip("。！？.!? ")
            sentence = f"{body}[{best + 1}]{sentence[len(body) :].strip()}"
        out.append(sentence)
    return "".join(out)


def _covered(pairs: set[str], text: str) -> float:
    return len(pairs & _pairs(text)) / len(pairs) if pairs else 0.0


SUPPORT_MIN = 0.5  # share of the lead's own words (not the question's) that its cited sentences hold
NEW_PAIRS_MIN = 3  # … and a lead that adds fewer character pairs than this to the question only restates it


def _new_pairs(lead: str, question: str, shown: str) -> set[str]:
    """The lead's character pairs that neither the question nor the shown titles and fields have."""
    return _pairs(MARKER.sub("", lead)) - _pairs(question) - _pairs(shown)


def _chinese(text: str) -> bool:
    """Mostly Chinese (an English lead over Chinese evidence cannot be compared character by character)."""
    plain = MARKER.sub("", text)
    return len(re.findall(r"[\u4e00-\u9fff]", plain)) >= len(re.sub(r"\s", "", plain)) / 2


def _markers(text: str) -> list[int]:
    return [int(n) for n in MARKER.findall(text)]


def _share(text: str, cited: str, question: str, shown: str) -> float:
    new = _new_pairs(text, question, shown)
    return len(new & _pairs(cited)) / len(new) if new else 1.0


def support(lead: str, cited: str, question: str = "", shown: str = "") -> float | None:
    """How much of what the lead adds to the question (its character pairs, minus the question's and the
    shown titles') the cited sentences contain; None for a lead that is mostly not Chinese."""
    if not _chinese(lead):
        return None
    return _share(lead, cited, question, shown) if _new_pairs(lead, question, shown) else 0.0


def check_lead(
    lead: str, evidence: Sequence[str], facts: str = "", question: str = ""
) -> Verification:
    """`evidence[n-1]` is the sentence [n]; `facts` holds document fields and titles shown beside the extract."""
    if not lead:
        return Verification(False, ["the model wrote nothing"])
    if len(lead) > MAX_CHARS:
        return Verification(False, [f"the lead is {len(lead)} characters long (at most {MAX_CHARS})"])
    check = verify(lead, evidence, facts=facts)
    if _chinese(lead):
        if len(_new_pairs(lead, question, facts)) < NEW_PAIRS_MIN:
            check.ok = False
            check.problems.append("the lead only restates the question")
        # sentence by sentence, against the sentences each one cites: a true sentence cannot carry another
        for sentence in sentences(lead):
            cited = " ".join(evidence[n - 1] for n in _markers(sentence) if 1 <= n <= len(evidence))
            share = _share(sentence, f"{cited} {facts}", question, facts)
            if share < SUPPORT_MIN:
                check.ok = False
                check.problems.append(
                    f"only {share:.0%} of the wording of {sentence[:30]!r} is in the sentences it cites"
                )
    uncited = [s for s in sentences(lead) if not MARKER.search(s)]
    if uncited:
        check.ok = False
        check.problems.append(f"a sentence without a [n] citation: {uncited[0][:40]!r}")
    return check


def sentences(text: str) -> list[str]:
    """The text's sentences, each with the [n] markers that follow it."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]
