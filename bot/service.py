"""The one answering service every surface calls (API, Telegram, CLI, eval runner)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from bot.answer import Answer, AnswerEvent, Turn, Usage
from bot.answer_cache import AnswerCache, CacheKey, cache_question, canonical_filters
from bot.chain import AnswerChain, ChainState, Generator, elapsed_ms
from bot.cluster.redis_state import RedisAnswerCache
from bot.cluster.shared_index import SharedIndex
from bot.condense import Condensed, condense
from bot.config import Settings
from bot.gate import RelevanceGate
from bot.storage.opening import database_for
from bot.storage.sessions import SessionStore, SqlSessionStore
from bot.text_input import text_problem
from retrieval.documents import PolicyDocument
from retrieval.indexer import BuildReport
from retrieval.library import PolicyLibrary

MAX_QUESTION_CHARS = 2000


class InvalidQuestion(ValueError):
    """The question cannot be answered as given (empty, too long, wrong mode)."""


class AssistantService:
    def __init__(
        self,
        library: PolicyLibrary,
        sessions: SessionStore,
        *,
        default_mode: str = "extractive",
        top_k: int = 5,
        generators: dict[str, Generator] | None = None,
        fallback: bool = True,
        gate: RelevanceGate | None = None,
        clock: Callable[[], dt.date] = dt.date.today,
        answer_cache_size: int = 0,
        answer_cache: AnswerCache | RedisAnswerCache | None = None,
        documents: SharedIndex | None = None,
        lead_timeout: float = 20.0,
        lead_revisions: int = 1,
    ) -> None:
        self.library = library
        self.sessions = sessions
        self.default_mode = default_mode
        self.top_k = top_k
        self.generators = generators or {}
        self.chain = AnswerChain(
            library,
            gate=gate,
            generators=self.generators,
            fallback=fallback,
            clock=clock,
            lead_timeout=lead_timeout,
            lead_revisions=lead_revisions,
        )
        self.answer_cache = answer_cache if answer_cache is not None else AnswerCache(answer_cache_size)
        self._documents = documents

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> AssistantService:
        from bot.answerers.generative import generators_from_settings
        from bot.cluster.wiring import answer_cache, redis_from_settings, shared_index
        from bot.library_factory import make_library

        library = overrides.pop("library", None) or make_library(settings)
        redis = redis_from_settings(settings)
        cache = answer_cache(
            settings, redis, int(overrides.pop("answer_cache_size", settings.answer_cache_size))
        )
        sessions = overrides.pop("sessions", None) or SqlSessionStore(
            database_for(settings, "sessions"), settings.session_max_turns
        )
        return cls(
            library,
            sessions,
            default_mode=settings.answer_mode,
            top_k=settings.top_k,
            generators=overrides.pop("generators", None) or generators_from_settings(settings),
            fallback=settings.llm_fallback,
            answer_cache=cache,
            documents=shared_index(settings, library, redis, cache),
            lead_timeout=overrides.pop("lead_timeout", settings.lead_timeout),
            lead_revisions=overrides.pop("lead_revisions", settings.lead_revisions),
            **overrides,
        )

    # -- documents: every change goes through the shared index, so every replica learns of it alike ----
    @property
    def documents(self) -> SharedIndex:
        if self._documents is None:
            from bot.cluster.wiring import local_index

            self._documents = local_index(self.library)
        return self._documents

    def add_document(self, raw: bytes, filename: str) -> tuple[PolicyDocument, BuildReport]:
        return self.documents.add_document(raw, filename)

    def delete_document(self, doc_id: str) -> BuildReport:
        return self.documents.delete_document(doc_id)

    def follow_published_index(self) -> None:
        """With a shared database: load each version another replica publishes, warmed before it serves."""

        def loaded(version: str) -> None:
            self.library.live.current()
            self.chain.warm_up()

        self.documents.start_watching(loaded)

    def stop_following(self) -> None:
        if self._documents is not None:
            self._documents.stop_watching()

    @property
    def modes(self) -> list[str]:
        return ["extractive", *self.generators]

    def warm_up(self) -> None:
        self.library.warm_up()
        if self.library.live.is_ready():
            self.chain.warm_up()
            # one question through every step (tokenizer, retrieval, gate, answer), about the library's own
            # first document, so the first user does not pay for the warm-up
            titles = [e["summary"].get("title", "") for e in self.library.live.current().documents.values()]
            self.ask(f"{next((t for t in titles if t), '文件')}的主要内容是什么？")

    def _validate(self, question: str, mode: str | None, top_k: int | None) -> tuple[str, str, int]:
        problem = text_problem(question or "")
        if problem:
            raise InvalidQuestion(f"问题中{problem}，请删除后重试。")
        text = (question or "").strip()
        if not text:
            raise InvalidQuestion("问题为空：请输入要咨询的政策问题。")
        if len(text) > MAX_QUESTION_CHARS:
            raise InvalidQuestion(f"问题过长（{len(text)}字），请控制在{MAX_QUESTION_CHARS}字以内。")
        chosen = mode or self.default_mode
        if chosen not in self.modes:
            raise InvalidQuestion(f"回答模式 {chosen!r} 未配置；可用模式：{', '.join(self.modes)}")
        k = top_k or self.top_k
        if not 1 <= k <= 50:
            raise InvalidQuestion("top_k 必须在 1 到 50 之间")
        return text, chosen, k

    def ask(
        self,
        question: str,
        session_id: str | None = None,
        mode: str | None = None,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        on_event: Callable[[AnswerEvent], None] | None = None,
    ) -> Answer:
        started = time.perf_counter()
        text, chosen, k = self._validate(question, mode, top_k)
        history = self.sessions.history(session_id) if session_id else []
        key = self._cache_key(text, chosen, k, filters, history)
        if key is not None:
            hit = self.answer_cache.get(key)
            if hit is not None:
                answer = hit.answer.model_copy(
                    deep=True,
                    update={
                        "answer_id": uuid.uuid4().hex,
                        "session_id": session_id,
                        "question": text,
                        "standalone_question": text,
                        "usage": Usage(),  # no model tokens were spent on this request
                        "timings_ms": {"cache": 1.0, "total": elapsed_ms(started)},
                    },
                )
                self._remember(session_id, answer, list(hit.list_items))
                return answer
        state = ChainState(question=text, history=history, mode=chosen, top_k=k, filters=filters)
        state.stream_sink = on_event
        state = self.chain.invoke(state)
        if key is not None:
            state.timings_ms["cache"] = 0.0
        state.timings_ms["total"] = elapsed_ms(started)
        answer = Answer(
            answer_id=uuid.uuid4().hex,
            answer=state.answer,
            lead=state.lead,
            refused=state.refused,
            refusal_reason=state.refusal_reason,
            citations=state.citations,
            mode=chosen,  # type: ignore[arg-type]
            session_id=session_id,
            question=text,
            standalone_question=state.standalone,
            usage=state.usage,
            timings_ms=state.timings_ms,
            notices=state.notices,
            index_version=state.search.index_version if state.search else "",
        )
        draft = state.draft
        list_items = draft.list_items if draft and draft.kind == "list" else []
        if key is not None and self._cacheable(state):
            # keyed by the version the answer was actually built on (a publish may have come in between)
            self.answer_cache.put(replace(key, index_version=answer.index_version), answer, list_items)
        self._remember(session_id, answer, list_items)
        return answer

    # -- answer cache ------------------------------------------------------------------------------
    def _cache_key(
        self, text: str, mode: str, top_k: int, filters: dict[str, Any] | None, history: list[Turn]
    ) -> CacheKey | None:
        """The cache key, or None when this question must not use the cache: with conversation history
        only a question the condenser leaves as it is (not a follow-up) is independent of the history,
        and in a generative mode the model rewrites every question that has history."""
        if not self.answer_cache.enabled:
            return None
        if history and (mode in self.generators or condense(text, history) != Condensed(text)):
            return None
        normalised = cache_question(text)
        version = self.library.layout.current_version()
        if not normalised or not version:
            return None
        day = self.chain.clock().isoformat()
        return CacheKey(normalised, mode, top_k, canonical_filters(filters), version, day)

    def _cacheable(self, state: ChainState) -> bool:
        """Only answers that the same inputs would give again: not one degraded to keyword search while
        the vector store is down, and not a generative-mode fallback (model down, unverifiable or
        refusing) once the gate judged the passages relevant: the model is tried again next time."""
        if state.search is None or state.search.degraded or state.condensed != Condensed(state.question):
            return False
        if state.mode in self.generators and state.generator_used is None:
            return state.decision is not None and not state.decision.answerable
        return True

    def _remember(self, session_id: str | None, answer: Answer, list_items: list[str]) -> None:
        if not session_id:
            return
        self.sessions.append(
            session_id,
            Turn(
                question=answer.question,
                standalone_question=answer.standalone_question,
                answer=answer.answer,
                refused=answer.refused,
                doc_ids=list(dict.fromkeys(c.doc_id for c in answer.citations)),
                list_items=list_items,
                section_paths=[c.section_path for c in answer.citations],
            ),
        )
        self.sessions.set_value(session_id, "last_answer", answer.model_dump(mode="json"))

    def stream(self, question: str, **kwargs: Any) -> Iterator[AnswerEvent | Answer]:
        """What to show as soon as it exists, then the Answer: the verbatim extract with its citations (at once,
        in every mode; for a refusal, the refusal text), then in a generative mode the pieces of the model's lead
        as it writes them. The Answer is authoritative: it holds the lead only when the lead passed its check."""
        import queue
        import threading

        events: queue.Queue[Any] = queue.Queue()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                events.put(self.ask(question, on_event=events.put, **kwargs))
            except BaseException as exc:  # handed to the consumer
                failure.append(exc)
                events.put(None)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        extracted = False
        while True:
            item = events.get()
            if item is None:
                raise failure[0]
            if isinstance(item, Answer):
                if not extracted:
                    yield AnswerEvent(kind="extract", text=item.answer, citations=item.citations)
                yield item
                return
            extracted = extracted or item.kind == "extract"
            yield item

    def last_answer(self, session_id: str) -> Answer | None:
        data = self.sessions.get_value(session_id, "last_answer")
        return None if data is None else Answer.model_validate(data)

    def reset(self, session_id: str) -> None:
        self.sessions.reset(session_id)
