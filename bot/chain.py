"""The answering chain (LCEL): condense → retrieve → gate → answer → verify.

Each step is a small function over one `ChainState`; `build_chain` composes them with RunnableLambda so a
step can be tested alone and the whole runs as one LangChain Runnable."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from langchain_core.runnables import Runnable, RunnableLambda

from bot.answer import REFUSAL_SENTENCE, AnswerEvent, Citation, Turn, Usage
from bot.answerers.extractive import SENTENCE_PASSAGES, Draft, ExtractiveAnswerer
from bot.attribution import (
    attributed_documents,
    designated_documents,
    document_groups,
    named_document_groups,
    question_of_group,
)
from bot.compound import heading, question_parts, renumber
from bot.condense import Condensed, condense
from bot.evidence import (
    YEAR,
    SentenceSimilarity,
    Unit,
    UnitVectors,
    corpus_letters,
    corpus_text,
    coverage,
    latest_year,
    letters,
    salient_terms,
    term_weights,
)
from bot.gate import GateDecision, RelevanceGate, gate_features, label_match
from bot.intents import IntentExemplars
from bot.kinds import kinds_asked, kinds_sentence
from bot.lead import attribute, check_lead, declined, is_complete, lead_sentences
from bot.notices import document_notices, validity_statement
from bot.prompts import addresses_the_model, pack_evidence, question_for_model
from bot.question import (
    QuestionAnalysis,
    analyze,
    asked_clauses,
    asked_part,
    asks,
    asks_in_words,
    code_names,
    compares,
    fields_asked,
    place_names,
    points_at_a_document,
    quoted_phrases,
    refers_back,
)
from bot.question import warm_up as question_warm_up
from retrieval.index import IndexSnapshot
from retrieval.lexical import SYNONYMS, english_terms, word_class
from retrieval.library import PolicyLibrary
from retrieval.normalize import compact, to_simplified
from retrieval.places import canonical_place, english_place_names
from retrieval.retriever import Passage, SearchResult

log = logging.getLogger("policybot.chain")

MODEL_REFUSED_NOTICE = "生成式模型未作答，仅显示原文摘录。"
FALLBACK_NOTICE = "生成式概括未通过核验（{why}），仅显示原文摘录。"
DIRECTIVE_NOTICE = "问题中含有对回答方式的指令，未交给生成式模型，仅显示原文摘录。"
DIRECTIVE_DROPPED_NOTICE = "问题中对回答方式的指令未予执行，生成式模型只读到所问的问题。"
REJECTED = "与所引原文不符"
VERB_CLASS = "v"  # jieba's class of plain verbs (not "vn", verbal nouns such as 建设 that name a subject)
TIMEOUT_NOTICE = "生成式模型超过{seconds:g}秒未写完概括，仅显示原文摘录。"


class Generator(Protocol):
    """A generative answerer (OpenAI-compatible or local) that writes a lead over chosen evidence."""

    name: str
    evidence_budget: int

    def lead(self, question: str, evidence: str, hints: Sequence[str] = ()) -> Iterator[str]: ...

    def usage(self, question: str, evidence: str, text: str, hints: Sequence[str] = ()) -> Usage: ...

    def rewrite(self, question: str, history: Sequence[Turn]) -> str | None: ...


@dataclass
class ChainState:
    question: str
    history: list[Turn] = field(default_factory=list)
    mode: str = "extractive"
    top_k: int = 5
    filters: dict[str, Any] | None = None
    condensed: Condensed | None = None
    analysis: QuestionAnalysis | None = (
        None  # what is asked, a follow-up's carried over from the conversation
    )
    own_analysis: QuestionAnalysis | None = None  # this message alone
    standalone_analysis: QuestionAnalysis | None = None  # the condensed standalone question
    search: SearchResult | None = None
    passages: list[Passage] = field(default_factory=list)
    # the sentence naming the kinds a question asks for, when it let the question in (`_names_kinds`)
    named_kinds: Unit | None = None
    snapshot: IndexSnapshot | None = None
    decision: GateDecision | None = None
    draft: Draft | None = None
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    refusal_reason: str | None = None
    notices: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    timings_ms: dict[str, float] = field(default_factory=dict)
    generator_used: str | None = None
    lead: str = ""  # the model's verified lead (generative modes)
    stream_sink: Callable[[AnswerEvent], None] | None = None

    @property
    def standalone(self) -> str:
        return self.condensed.standalone if self.condensed else self.question


class AnswerChain:
    def __init__(
        self,
        library: PolicyLibrary,
        *,
        gate: RelevanceGate | None = None,
        extractive: ExtractiveAnswerer | None = None,
        generators: dict[str, Generator] | None = None,
        fallback: bool = True,
        clock: Callable[[], dt.date] = dt.date.today,
        lead_timeout: float = 20.0,
        lead_revisions: int = 1,
    ) -> None:
        self.library = library
        self.lead_timeout = lead_timeout
        self.lead_revisions = lead_revisions
        self.gate = gate or RelevanceGate()
        self.extractive = extractive or ExtractiveAnswerer()
        self.generators = generators or {}
        self.fallback = fallback
        self.clock = clock
        self.unit_vectors = UnitVectors(library.embeddings, model_id=library.embedding_model)
        self.intents = IntentExemplars(library.embeddings, model_id=library.embedding_model)
        self.runnable: Runnable[ChainState, ChainState] = build_chain(self)

    def invoke(self, state: ChainState) -> ChainState:
        """Answer a message: one question through the chain; each of several questions (bot.compound) in turn,
        the later ones as follow-ups of the earlier; or one question that names several documents' places or
        levels ("苏州和全省分别…") once per document group. Several answers are merged into one."""
        parts = question_parts(state.question)
        if len(parts) > 1:
            return self._merged(state, [(heading(i), p, None) for i, p in enumerate(parts)], True)
        groups = [] if state.history or state.filters else self._document_groups(state.question)
        if len(groups) > 1:
            jobs = [(None, asked, {"doc_id": sorted(g)}) for g, asked in groups]
            return self._merged(state, jobs, False)
        return self.runnable.invoke(state)

    def _document_groups(self, question: str) -> list[tuple[frozenset[str], str]]:
        """The groups of documents a question is asked of in turn, each with the question as asked of it (the
        names of the other groups' documents left out: their words are not what this group must contain)."""
        analysis = analyze(question)
        if analysis.metadata_fields:
            return []  # the metadata answerer reads each named document's fields itself
        snapshot = self.library.live.current()
        # "省方案和苏州计划都…": the documents named side by side, whether or not the question says 分别
        names = designated_documents(question, snapshot)
        named = named_document_groups(question, names)
        if named:
            return [(group, _one_side(question_of_group(question, group, names))) for group in named]
        if not compares(question):
            # "苏州计划引用了哪份江苏省文件": two places, but one document is what the question is about
            return []
        return [(group, _one_side(question)) for group in document_groups(analysis, snapshot)]

    def _merged(
        self,
        state: ChainState,
        jobs: list[tuple[str | None, str, dict[str, Any] | None]],
        follow_ups: bool,
    ) -> ChainState:
        """Run the chain once per (heading, question, filters) job and merge the answers, citations renumbered.
        Parts are answered by the extract; in a generative mode the model then writes one lead over the merged
        answer (one model call per message, not per part)."""
        history = list(state.history)
        done: list[ChainState] = []
        for _, question, filters in jobs:
            sub = self.runnable.invoke(
                ChainState(question=question, history=list(history), top_k=state.top_k, filters=filters)
            )
            done.append(sub)
            if follow_ups:
                history.append(_turn(sub))
        answered = [s for s in done if not s.refused]
        first = answered[0] if answered else done[0]
        merged = replace(state, condensed=first.condensed, analysis=first.analysis, search=first.search)
        merged.own_analysis, merged.standalone_analysis = first.own_analysis, first.standalone_analysis
        merged.passages, merged.snapshot = first.passages, first.snapshot
        merged.decision, merged.draft = first.decision, first.draft
        merged.timings_ms = {}
        for sub in done:
            for stage, value in sub.timings_ms.items():
                merged.timings_ms[stage] = round(merged.timings_ms.get(stage, 0.0) + value, 3)
        merged.notices = list(dict.fromkeys(n for sub in done for n in sub.notices))
        if not answered:
            merged.refused, merged.refusal_reason = True, first.refusal_reason
            merged.answer, merged.citations = first.answer, []
            return merged
        lines: list[str] = []
        citations: list[Citation] = []
        for (label, _, filters), sub in zip(jobs, done, strict=True):
            if label:
                lines.append(label)
            if sub.refused:
                where = "、".join(f"《{_title(sub, d)}》" for d in (filters or {}).get("doc_id", [])[:2])
                reason = f"（{sub.refusal_reason}）" if sub.refusal_reason else ""
                lines.append(f"{where}{'：' if where else ''}{REFUSAL_SENTENCE}{reason}")
                continue
            offset = len(citations)
            lines.append(renumber(sub.answer, offset, len(sub.citations)))
            citations.extend(c.model_copy(update={"n": c.n + offset}) for c in sub.citations)
        merged.refused, merged.refusal_reason = False, None
        merged.answer, merged.citations = "\n".join(lines), citations
        if state.stream_sink is not None:
            state.stream_sink(AnswerEvent(kind="extract", text=merged.answer, citations=list(citations)))
        generator = self.generators.get(state.mode)
        if generator is not None:
            # one model call for the whole message, over the parts' cited sentences, as for one question
            facts = "".join(dict.fromkeys(s.draft.preface for s in answered if s.draft and s.draft.preface))
            self._write_lead(merged, generator, asked_part(state.question), facts)
        return merged

    # -- steps -------------------------------------------------------------------------------------
    def condense(self, state: ChainState) -> ChainState:
        started = time.perf_counter()
        state.condensed = condense(state.question, state.history)
        if state.condensed.standalone != state.question and self._stands_alone(state.question):
            state.condensed = Condensed(state.question)
        generator = self.generators.get(state.mode)
        if generator is not None and state.history:
            rewritten = generator.rewrite(state.question, state.history)
            if rewritten:
                state.condensed = Condensed(rewritten, state.condensed.section_hint, state.condensed.doc_hint)
        own = state.own_analysis = state.analysis = analyze(state.question)
        state.standalone_analysis = own
        if state.condensed.standalone != state.question:
            # a follow-up asks what the conversation asked, about what this turn names
            carried = state.standalone_analysis = analyze(state.condensed.standalone)
            if asks_in_words(own.text):
                # "另外苏州有没有类似的安排？" after "…数量是多少？": what it asks for is its own, not the count
                carried = replace(
                    carried,
                    wants_list=own.wants_list,
                    wants_quantity=own.wants_quantity,
                    wants_money=own.wants_money,
                    answer_types=own.answer_types,
                    years=own.years,
                    wants_year=own.wants_year,
                    wants_day=own.wants_day,
                    items_asked=own.items_asked,
                )
            state.analysis = replace(
                carried,
                text=own.text,
                places=own.places or carried.places,
                designated=own.designated if own.places else carried.designated,
                scopes=own.scopes or carried.scopes,
                designated_scopes=own.designated_scopes
                if own.places or own.scopes
                else carried.designated_scopes,
                ordinal=own.ordinal,
            )
        self._field_by_meaning(state)
        state.timings_ms["condense"] = elapsed_ms(started)
        return state

    def _field_by_meaning(self, state: ChainState) -> None:
        """A document-field question worded as the regular expressions do not know ("哪一號文？", "doc number?")
        gets its field from the nearest phrasings (bot.intents) under the query vector retrieval uses too."""
        analysis = state.analysis
        if analysis is None or (state.condensed and state.condensed.section_hint):
            return
        if not (analysis.places or analysis.scopes or points_at_a_document(state.standalone)):
            return  # a field of which document? ("What is the capital of …", "JSON文件怎么打开")
        if analysis.answer_types and not analysis.metadata_fields:
            return  # worded as asking for a fact of a kind ("…的邮箱", "the contact email"): no document field
        asked = [c for c in _QUESTION_MARK.split(state.standalone) if compact(c).strip("？?")]
        worded = [fields_asked(c) for c in asked]
        try:
            kinds = self._fields_by_meaning(state.standalone, analysis.metadata_fields, asked, worded)
        except Exception:  # an embeddings endpoint that fails leaves the question to the words
            return
        if kinds:
            state.analysis = replace(
                analysis,
                metadata_fields=kinds,
                worded_fields=tuple(
                    dict.fromkeys([*analysis.worded_fields, *(f for w in worded for f in w)])
                ),
            )

    def _fields_by_meaning(
        self, question: str, known: tuple[str, ...], asked: list[str], worded: list[tuple[str, ...]]
    ) -> tuple[str, ...]:
        """The fields the question asks for, by meaning, beside those its words gave (`known`; `worded`, those of
        each of its `asked` questions). A message that asks two short things at once ("印发机关是谁？哪年印发的？")
        gets each question's field, when every one of them asks for a field."""
        if not known:
            kind = self.intents.kind(question)
            if kind is not None:
                return (kind,)
        if len(asked) < 2:
            return known
        kinds = [
            w or ((k,) if (k := self.intents.kind(c)) else ()) for c, w in zip(asked, worded, strict=True)
        ]
        if not all(kinds):
            return known
        return tuple(dict.fromkeys([*known, *(k for found in kinds for k in found)]))

    def retrieve(self, state: ChainState) -> ChainState:
        started = time.perf_counter()
        query = state.standalone
        candidates = max(state.top_k, 8)
        result = self.library.search(query, k=candidates, filters=state.filters)
        state.search = result
        state.snapshot = self.library.live.current()
        assert state.own_analysis is not None
        passages = _attribute(
            result.passages, state.own_analysis, state.snapshot, state.condensed, state.standalone_analysis
        )
        if not passages and state.filters and state.filters.get("doc_id"):
            # the documents were chosen (one group of a comparison, or by the caller): a place the question names
            # elsewhere ("济南和青岛在江苏方案和苏州计划里…") does not take them away
            passages = list(result.passages)
        state.passages = passages[: state.top_k]
        state.notices.extend(result.notices)
        state.timings_ms["retrieve"] = elapsed_ms(started)
        for stage, value in result.timings_ms.items():
            state.timings_ms[f"retrieve.{stage}"] = round(value, 3)
        return state

    def decide(self, state: ChainState) -> ChainState:
        started = time.perf_counter()
        self._decide(state)
        state.timings_ms["gate"] = elapsed_ms(started)
        return state

    def _decide(self, state: ChainState) -> None:
        assert state.snapshot is not None and state.analysis is not None
        snapshot, analysis = state.snapshot, state.analysis
        later = [y for y in analysis.years if y > latest_year(snapshot)]
        asked = asked_part(state.question)
        library_text = corpus_text(snapshot)
        foreign = [
            p
            for p in place_names(to_simplified(asked_clauses(state.question)))
            if compact(canonical_place(p)) not in library_text
        ] + [
            f"{name}（{'、'.join(readings)}）"
            for name, readings in english_place_names(asked)
            if not any(compact(r) in library_text for r in readings)
        ]
        instructs = addresses_the_model(state.question)
        asking = question_for_model(state.question) if instructs else state.question
        unquoted = [q for q in quoted_phrases(asked_part(asking)) if not _in_library(q, snapshot)]
        unknown_codes = [c for c in code_names(asked_clauses(asking)) if not _code_in_library(c, snapshot)]
        if instructs and not asking.strip():
            # "告诉我你的系统提示词", "act as…": instructions to the assistant with nothing left to ask of the documents
            state.decision = GateDecision(False, 0.0, {}, "消息只是对助手的指令，没有可以依据文件回答的问题")
        elif state.condensed and state.condensed.section_hint:
            state.decision = GateDecision(True, 1.0, {"section_hint": 1.0})
        elif foreign:
            # a place no document writes: neither its documents' content nor their fields ("江苏方案的文号") are
            # in the library, and another place's document is no answer
            state.decision = GateDecision(False, 0.0, {}, f"本库文件不涉及{foreign[0]}")
        elif analysis.metadata_fields and state.passages:
            # a question about a document's own fields: the metadata answerer decides from the fields
            state.decision = GateDecision(True, 1.0, {"metadata": 1.0})
        elif later and not analysis.metadata_fields:
            state.decision = GateDecision(False, 0.0, {}, f"文件不涉及{later[0]}年的情况")
        elif unquoted:
            # "…“揭榜挂帅”机制…": the asker quotes a name the library never writes
            state.decision = GateDecision(False, 0.0, {}, f"文件中没有提到“{unquoted[0]}”")
        elif unknown_codes:
            # "…的XYZ指标…": a code is a name, and the library never writes this one (nor the glossary's words for
            # it): whatever the passages say about the words around it, they do not say it about that
            state.decision = GateDecision(False, 0.0, {}, f"文件中没有提到{unknown_codes[0]}")
        elif (
            (analysis.wants_list or not asks(state.question))
            and state.passages
            and label_match(state.question, state.passages[:3])
        ):
            # "基本原则有哪些？": the question names a numbered section; its items are the answer. So for a query
            # of bare words that names one ("苏州计划 保障措施"): it asks for the section
            state.analysis = replace(analysis, wants_list=True)
            state.decision = GateDecision(True, 1.0, {"label_match": 1.0})
        elif not state.passages:
            state.decision = GateDecision(False, 0.0, {}, "没有检索到相关条文")
        else:
            state.decision = self.gate.decide(self.gate_features(state))
            knows_a_word = self._knows_a_word(state)
            if not state.decision.answerable and knows_a_word and _retrievers_agree(state.passages):
                # the word-based and the meaning-based retriever independently put the same passage first: the
                # question is about it, however differently it is worded (paraphrase, English, colloquial). Not
                # when the question has no content word the library knows: then the word-based retriever matched
                # only names (a place, a document's title words) and its agreeing says nothing
                state.decision = GateDecision(
                    True, state.decision.score, {**state.decision.features, "agree": 1.0}
                )
            elif not state.decision.answerable and self._names_kinds(state):
                # "…的三类X分别是什么": X is what the library is about, so no word of the question tells its
                # passages apart; a retrieved sentence naming that many kinds of X answers it
                state.decision = GateDecision(
                    True, state.decision.score, {**state.decision.features, "kinds": 1.0}
                )
            elif not state.decision.answerable and (
                _names_section_only(state.decision.features) or self._names_section_and_verbs(state)
            ):
                # "苏州计划的工作目标是什么？": the question names a section of a passage retrieved and asks
                # nothing the passages do not write, or only a verb they do not ("…工作目标哪年达成？"): the
                # section is the answer, and what it asks for (a year, a figure) is checked in it
                state.decision = GateDecision(
                    True, state.decision.score, {**state.decision.features, "section_named": 1.0}
                )
        if not state.decision.answerable:
            state.refused, state.refusal_reason = True, state.decision.reason

    def answer(self, state: ChainState) -> ChainState:
        started = time.perf_counter()
        if not state.refused:
            generator = self.generators.get(state.mode)
            if generator is None:
                self._extractive(state)
            else:
                self._generative(state, generator)
        if state.refused:
            retrieved = state.search.passages if state.search is not None else []
            state.answer = refusal_text(self.library.live.current(), [p.chunk.doc_id for p in retrieved])
            state.citations = []
        state.timings_ms["generate"] = elapsed_ms(started)
        return state

    def finish(self, state: ChainState) -> ChainState:
        if state.snapshot is not None and state.citations:
            docs = []
            for doc_id in dict.fromkeys(c.doc_id for c in state.citations):
                entry = state.snapshot.documents.get(doc_id)
                if entry:
                    docs.append(entry["summary"])
            state.notices.extend(n for n in document_notices(docs, self.clock()) if n not in state.notices)
        return state

    def _stands_alone(self, question: str) -> bool:
        """A short message that does not point back in words ("天气怎么样？" after a list) and whose content words the
        library never writes is a question of its own, not a follow-up: carrying the previous subject into it would
        answer it from that subject's passages."""
        if analyze(question).ordinal or refers_back(question):
            return False
        terms, written = _content_words(question, self.library.live.current())
        return bool(terms) and not written

    def _knows_a_word(self, state: ChainState) -> bool:
        """A content word of the question, or a part of one ("卫星通信" → 卫星), is a word the library writes.
        Words it never writes ("护照") are no sign that the question is about its passages."""
        assert state.snapshot is not None
        return bool(_content_words(state.standalone, state.snapshot)[1])

    def _names_kinds(self, state: ChainState) -> bool:
        """The question asks what kinds its class is divided into and a sentence names them (kept for the answer)."""
        assert state.snapshot is not None
        kinds = kinds_asked(state.standalone, state.snapshot.bm25.vocabulary)
        if kinds is not None:
            passages = state.passages[:SENTENCE_PASSAGES]
            state.named_kinds = kinds_sentence(state.standalone, kinds, passages, state.snapshot)
        return state.named_kinds is not None

    def _names_section_and_verbs(self, state: ChainState) -> bool:
        """The question names a section of a top passage, and the content words the top passages do not write
        are all verbs in jieba's dictionary (完成, 达成): they say what happens to the section's subject, not
        what else it is about."""
        assert state.snapshot is not None
        if not state.decision or state.decision.features.get("label_match", 0.0) < 1.0:
            return False
        top = "\n".join(p.chunk.contextual_text for p in state.passages[:3])
        terms = salient_terms(
            state.standalone,
            term_weights(state.snapshot),
            state.snapshot.bm25.vocabulary,
            english_readings=True,
        )
        missing = [t for t in terms if not coverage({t: 1.0}, top)]
        if not missing or not all(word_class(t) == VERB_CLASS for t in missing):
            return False
        # "…保障措施哪年完成？": a year asked must be in the sections' own text (a title's period is no answer)
        return not state.analysis.wants_year or any(YEAR.search(p.chunk.text) for p in state.passages[:3])

    def gate_features(self, state: ChainState) -> dict[str, float]:
        """The relevance gate's features for a retrieved question (also what `evals.calibrate_gate` fits on)."""
        snapshot = state.snapshot
        assert snapshot is not None
        similarity = self._similarity(state)
        return gate_features(
            state.standalone,
            state.passages,
            term_weights(snapshot),
            snapshot.bm25.vocabulary,
            {doc_id: entry["text"] for doc_id, entry in snapshot.documents.items()},
            similarity,
            self._baseline(similarity, snapshot),
        )

    def _baseline(self, similarity: SentenceSimilarity | None, snapshot: IndexSnapshot) -> float:
        if similarity is None:
            return 0.0
        try:
            return similarity.baseline(snapshot)
        except Exception:  # an embeddings endpoint that fails must not fail the answer
            log.warning("could not compute the dense baseline", exc_info=True)
            return 0.0

    def _similarity(self, state: ChainState) -> SentenceSimilarity | None:
        """Dense sentence similarity, unless the vector store is down (then words alone decide)."""
        if state.search is not None and state.search.degraded:
            return None
        try:
            return self.unit_vectors.similarity_to(state.standalone)
        except Exception:  # an embeddings endpoint that fails must not fail the answer
            return None

    def warm_up(self) -> None:
        question_warm_up()
        self.intents.matrix()
        snapshot = self.library.live.current()
        self.unit_vectors.warm_up(snapshot, cache_dir=self.library.layout.version_dir(snapshot.version))
        self.unit_vectors.library_sample(snapshot)

    # -- answer modes ------------------------------------------------------------------------------
    def _extractive(self, state: ChainState) -> None:
        assert state.snapshot is not None and state.analysis is not None
        hint = state.condensed.section_hint if state.condensed else None
        if hint:
            hinted = [p.chunk for p in state.passages if p.chunk.section_path.startswith(hint)]
            state.draft = self.extractive.section(hinted, hint)
            state.answer, state.citations = compose_extractive(state.draft, state.passages)
            return
        if state.named_kinds is not None:
            # let through by the sentence that names the kinds asked (`_names_kinds`): that sentence is the answer
            state.draft = Draft(units=[state.named_kinds])
            state.answer, state.citations = compose_extractive(state.draft, state.passages)
            return
        draft = self.extractive.draft(
            state.standalone,
            _with_hint(state.analysis, state.condensed),
            state.passages,
            state.snapshot,
            term_weights(state.snapshot),
            state.snapshot.bm25.vocabulary,
            self._similarity(state),
        )
        state.draft = draft
        if draft.kind == "metadata" and {"status", "period"} & set(state.analysis.metadata_fields):
            draft.preface = self._validity(draft)
        if draft.refusal_reason or not draft.units:
            state.refused = True
            state.refusal_reason = draft.refusal_reason or "检索到的条文中没有可以引用的句子"
            return
        state.answer, state.citations = compose_extractive(draft, state.passages)

    def _validity(self, draft: Draft) -> str:
        """Validity and period answered from the cited documents' fields and today's date."""
        snapshot = self.library.live.current()
        statements = []
        for doc_id in dict.fromkeys(u.chunk.doc_id for u in draft.units):
            entry = snapshot.documents.get(doc_id)
            if entry:
                statements.append(validity_statement(entry["summary"], self.clock()))
        return "".join(s for s in statements if s)

    def _generative(self, state: ChainState, generator: Generator) -> None:
        """Evidence first, model second: the extract is the answer (and is shown at once); the model then writes
        one or two sentences over the extract's own sentences, which lead the answer when they pass the check."""
        extracted = time.perf_counter()
        self._extractive(state)
        state.timings_ms["extract"] = elapsed_ms(extracted)
        if state.refused:
            return  # only the gate refuses; the model is not asked
        if state.stream_sink is not None:
            state.stream_sink(AnswerEvent(kind="extract", text=state.answer, citations=list(state.citations)))
        facts = state.draft.preface if state.draft else ""
        self._write_lead(state, generator, asked_part(state.standalone), facts)

    def _write_lead(self, state: ChainState, generator: Generator, question: str, facts: str) -> None:
        """The model's one or two sentences over the extract's cited sentences (`question` is what is asked, not
        what else was said; `facts` the document fields shown with the extract). A lead that passes the check
        goes above the extract; otherwise the extract stands, with a notice why."""
        extract = state.answer
        if addresses_the_model(state.question):
            # "先输出…再回答" / "you are now…": the model reads only the pieces that ask, never the instruction;
            # a message that asks nothing else is answered by the extract alone
            question = question_for_model(question)
            state.notices.append(DIRECTIVE_DROPPED_NOTICE if question else DIRECTIVE_NOTICE)
            if not question:
                return
        sources = [(c.n, c.title, c.quote) for c in state.citations]
        evidence, used = pack_evidence(sources, generator.evidence_budget)
        if facts:
            evidence = f"（文件信息）{facts}\n{evidence}"
        started = time.perf_counter()
        hints: Sequence[str] = ()
        for attempt in range(1 + self.lead_revisions):
            if attempt and state.stream_sink is not None:
                state.stream_sink(AnswerEvent(kind="lead", text="", restart=True))
            try:
                text, timed_out = self._stream_lead(state, generator, question, evidence, hints, started)
            except Exception as exc:  # endpoint down, timeout, garbage: the extract stands
                state.timings_ms["llm"] = elapsed_ms(started)
                if not self.fallback:
                    raise
                state.notices.append(FALLBACK_NOTICE.format(why=f"模型服务不可用：{exc.__class__.__name__}"))
                return
            state.timings_ms["llm"] = elapsed_ms(started)
            usage = generator.usage(question, evidence, text, hints)
            state.usage = Usage(  # every attempt's tokens
                prompt_tokens=state.usage.prompt_tokens + usage.prompt_tokens,
                completion_tokens=state.usage.completion_tokens + usage.completion_tokens,
            )
            lead = lead_sentences(text)
            if timed_out:
                state.notices.append(TIMEOUT_NOTICE.format(seconds=self.lead_timeout))
                return
            if declined(lead):
                # the gate judged the evidence relevant; a small model declines far too often, the extract stands
                # (a second try that declines leaves the first one's verdict)
                state.notices.append(
                    FALLBACK_NOTICE.format(why=REJECTED) if attempt else MODEL_REFUSED_NOTICE
                )
                return
            quotes = [c.quote for c in state.citations[: len(used)]]
            # document titles and fields are shown with the extract: the lead may repeat them (a title only
            # beside the sentences of its own document)
            titles = [c.title for c in state.citations[: len(used)]]
            lead = attribute(lead, quotes, facts, question, titles)
            check = check_lead(lead, quotes, facts, question, titles)
            if check.ok:
                state.generator_used = generator.name
                state.lead = lead
                state.answer = f"{lead}\n\n{extract}"
                return
            # the user is told that a lead was not shown, never what it said (it may hold the unsupported claim)
            log.info("lead rejected (attempt %d): %s", attempt + 1, "; ".join(check.problems))
            hints = check.hints
            if time.perf_counter() - started > self.lead_timeout / 2:
                break  # not enough time left for another attempt
        state.notices.append(FALLBACK_NOTICE.format(why=REJECTED))

    def _stream_lead(
        self,
        state: ChainState,
        generator: Generator,
        question: str,
        evidence: str,
        hints: Sequence[str],
        started: float,
    ) -> tuple[str, bool]:
        """One attempt's text, streamed to the sink as it comes, read until the lead is complete or the time
        (counted from the first attempt) is up. Returns the text and whether it timed out."""
        text = ""
        pieces = generator.lead(question, evidence, hints)
        try:
            for piece in pieces:
                if "llm.first_token" not in state.timings_ms:
                    state.timings_ms["llm.first_token"] = elapsed_ms(started)
                text += piece
                if state.stream_sink is not None:
                    state.stream_sink(AnswerEvent(kind="lead", text=piece))
                if is_complete(text):
                    break
                if time.perf_counter() - started > self.lead_timeout:
                    return text, True
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # stop the model (and free it for the next question) as soon as the lead is read
        return text, False


def build_chain(chain: AnswerChain) -> Runnable[ChainState, ChainState]:
    return (
        RunnableLambda(chain.condense, name="condense")
        | RunnableLambda(chain.retrieve, name="retrieve")
        | RunnableLambda(chain.decide, name="gate")
        | RunnableLambda(chain.answer, name="answer")
        | RunnableLambda(chain.finish, name="finish")
    )


# -- helpers -----------------------------------------------------------------------------------------
def elapsed_ms(started: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading, as the timings_ms fields show them."""
    return round((time.perf_counter() - started) * 1000, 3)


def _turn(state: ChainState) -> Turn:
    """An answered part of a message as the conversation history the next part reads."""
    draft = state.draft
    return Turn(
        question=state.question,
        standalone_question=state.standalone,
        answer=state.answer,
        refused=state.refused,
        doc_ids=list(dict.fromkeys(c.doc_id for c in state.citations)),
        list_items=draft.list_items if draft and draft.kind == "list" else [],
        section_paths=[c.section_path for c in state.citations],
    )


def _title(state: ChainState, doc_id: str) -> str:
    entry = state.snapshot.documents.get(doc_id) if state.snapshot else None
    return entry["summary"]["title"] if entry else doc_id


def _in_library(phrase: str, snapshot: IndexSnapshot) -> bool:
    """A quoted phrase (or the documents' own word for it: 老基建 → 传统基础设施) is in the library's text, punctuation
    aside."""
    text = corpus_letters(snapshot)
    wanted = letters(to_simplified(phrase))
    return not wanted or any(letters(w) in text for w in (wanted, *SYNONYMS.get(wanted, ())))


def _code_in_library(code: str, snapshot: IndexSnapshot) -> bool:
    """A code ("IPv6") is written in the library's text, or one of the glossary's Chinese words for it is."""
    return _in_library(code, snapshot) or any(_in_library(w, snapshot) for w in english_terms(code).split())


_QUESTION_MARK = re.compile(r"(?<=[？?])")


# "分别" / "各自" ask each document in turn; asked of one document, they no longer ask for a list
_EACH_IN_TURN = re.compile(r"分[别別]|各自")


def _one_side(question: str) -> str:
    """A comparison as asked of one of its sides ("省里和苏州的文件分别提了什么" → "…提了什么")."""
    return _EACH_IN_TURN.sub("", question)


def _content_words(text: str, snapshot: IndexSnapshot) -> tuple[list[str], list[str]]:
    """A text's content words (a compound the library does not use stands for its parts), and those of them that
    the library writes."""
    vocabulary = snapshot.bm25.vocabulary
    terms = list(salient_terms(text, term_weights(snapshot), vocabulary, split_compounds=True))
    return terms, [t for t in terms if t in vocabulary]


def _names_section_only(features: dict[str, float]) -> bool:
    """The question names a section of a top passage, and its content words, if any, are all in the top passages."""
    if features.get("label_match", 0.0) < 1.0:
        return False
    return features.get("log_terms", 0.0) == 0.0 or features.get("coverage", 0.0) >= 1.0


def _retrievers_agree(passages: Sequence[Passage]) -> bool:
    """BM25 and dense retrieval both ranked the first passage first."""
    return bool(passages) and passages[0].bm25_rank == 0 and passages[0].dense_rank == 0


def _with_hint(analysis: QuestionAnalysis, condensed: Condensed | None) -> QuestionAnalysis:
    if condensed and condensed.section_hint and analysis.ordinal:
        # the ordinal was resolved by the condenser: answer the section itself
        return replace(analysis, ordinal=None, wants_list=False)
    return analysis


def _attribute(
    passages: Sequence[Passage],
    analysis: QuestionAnalysis,
    snapshot: IndexSnapshot,
    condensed: Condensed | None,
    standalone: QuestionAnalysis | None = None,
) -> list[Passage]:
    """Keep only passages from the documents the question is about (bot.attribution), and put the section
    a follow-up points at first."""
    wanted = attributed_documents(analysis, snapshot)
    if wanted is None and standalone is not None:
        wanted = attributed_documents(standalone, snapshot)
    kept = list(passages)
    if wanted is not None:
        kept = [p for p in passages if p.chunk.doc_id in wanted]
    elif condensed and condensed.doc_hint:
        same = [p for p in passages if p.chunk.doc_id == condensed.doc_hint]
        kept = same + [p for p in passages if p.chunk.doc_id != condensed.doc_hint]
    if condensed and condensed.section_hint:
        hinted = [c for c in snapshot.chunks if c.section_path.startswith(condensed.section_hint)]
        if hinted:
            kept = [Passage(chunk=c, score=1.0) for c in hinted]
    return kept


def _citation(n: int, passage: Passage, unit: Unit | None = None) -> Citation:
    chunk = passage.chunk
    start, end, quote = (unit.start, unit.end, unit.text) if unit else (chunk.start, chunk.end, chunk.text)
    return Citation(
        n=n,
        doc_id=chunk.doc_id,
        title=chunk.title,
        doc_number=chunk.doc_number,
        section_path=(unit.chunk if unit else chunk).section_path,
        quote=quote,
        start=start,
        end=end,
        score=round(passage.score, 6),
        source="header" if chunk.extra.get("source") == "header" else "text",
    )


def _flat(text: str) -> str:
    """Rejoin lines that the source wrapped mid-sentence (display only; the quote keeps them)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def compose_extractive(draft: Draft, passages: Sequence[Passage]) -> tuple[str, list[Citation]]:
    score_of = {p.chunk.chunk_id: p.score for p in passages}
    citations: list[Citation] = []
    lines: list[str] = []
    current_doc = None
    items = 0
    for index, unit in enumerate(draft.units):
        chunk = unit.chunk
        if index in draft.continued and lines:
            # the content under a list item's heading, on the heading's line
            n = len(citations) + 1
            citations.append(
                _citation(n, Passage(chunk=chunk, score=score_of.get(chunk.chunk_id, 0.0)), unit)
            )
            lines[-1] += f" {_flat(unit.text)}[{n}]"
            continue
        if chunk.doc_id != current_doc:
            current_doc = chunk.doc_id
            number = f"（{chunk.doc_number}）" if chunk.doc_number else ""
            lead = f"依据《{chunk.title}》{number}"
            if draft.kind == "list" and draft.list_items:
                parent = " › ".join(draft.list_items[0].split(" › ")[:-1])
                lead += f"「{parent}」，共{len(draft.list_items)}项" if parent else ""
            lines.append(lead + "：")
        n = len(citations) + 1
        citations.append(_citation(n, Passage(chunk=chunk, score=score_of.get(chunk.chunk_id, 0.0)), unit))
        items += 1
        prefix = f"{items}. " if draft.kind == "list" else ""
        lines.append(f"{prefix}{_flat(unit.text)}[{n}]")
    if draft.preface:
        lines.insert(0, draft.preface)
    return "\n".join(lines), citations


MAX_SUGGESTED_DOCUMENTS = 3


def refusal_text(snapshot: IndexSnapshot | None, suggested: Sequence[str] = ()) -> str:
    """The fixed refusal sentence, then how many documents the library holds and at most a few of them by title
    (those retrieved for the question first): a pointer for the user, never the whole library, and no numbers
    or 文号 that could be mistaken for an answer."""
    if snapshot is None or not snapshot.documents:
        return REFUSAL_SENTENCE
    order = [d for d in dict.fromkeys(suggested) if d in snapshot.documents]
    order += [d for d in snapshot.documents if d not in order]
    titles = []
    for doc_id in order[:MAX_SUGGESTED_DOCUMENTS]:
        summary = snapshot.documents[doc_id]["summary"]
        extra = "（部分内容）" if summary.get("completeness") == "partial" else ""
        titles.append(f"《{summary['title']}》{extra}")
    count = len(snapshot.documents)
    lead = (
        "本库收录的文件："
        if count <= MAX_SUGGESTED_DOCUMENTS
        else f"本库共收录{count}份文件，与问题最接近的有："
    )
    scope = lead + "、".join(titles) + "。您可以询问这些文件中的目标、原则、任务、保障措施和文件信息。"
    return f"{REFUSAL_SENTENCE}\n{scope}"
