"""The answer cache: keyed by the normalised question, mode, top_k, filters, index version and day; only for
questions that do not depend on the conversation; never serves an entry of an older index version."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answer, Citation, Usage
from bot.answer_cache import AnswerCache, CacheKey, cache_question, canonical_filters
from bot.api.metrics import ApiMetrics
from bot.config import Settings
from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore, Turn
from retrieval.library import PolicyLibrary
from tests.bot.api.live import copy_index
from tests.conftest import CORPUS_DIR

LIST_QUESTION = "淄博计划的保障措施有哪些？"
DAY = dt.date(2026, 11, 29)


class SearchCounter:
    """Counts the searches the chain makes, by shadowing `library.search` on the instance (the real
    search still runs)."""

    def __init__(self, library: PolicyLibrary, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.degrade = False
        original = library.search

        def search(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            result = original(*args, **kwargs)
            if self.degrade:
                result.degraded = True
            return result

        monkeypatch.setattr(library, "search", search)


def make_service(
    library: PolicyLibrary, tmp_path: Path, size: int = 16, clock: Callable[[], dt.date] = lambda: DAY
) -> AssistantService:
    return AssistantService(
        library, SqlSessionStore(tmp_path / "sessions.sqlite3"), clock=clock, answer_cache_size=size
    )


@pytest.fixture
def searches(built_library: PolicyLibrary, monkeypatch: pytest.MonkeyPatch) -> SearchCounter:
    return SearchCounter(built_library, monkeypatch)


@pytest.fixture
def cached(built_library: PolicyLibrary, tmp_path: Path) -> AssistantService:
    return make_service(built_library, tmp_path)


def test_a_repeated_question_is_served_from_the_cache(
    cached: AssistantService, searches: SearchCounter
) -> None:
    first = cached.ask(LIST_QUESTION)
    second = cached.ask(LIST_QUESTION)
    assert searches.calls == 1, "the second answer ran no retrieval"
    assert first.timings_ms["cache"] == 0.0 and "retrieve" in first.timings_ms
    assert second.timings_ms["cache"] == 1.0 and set(second.timings_ms) == {"cache", "total"}
    assert second.answer == first.answer and second.citations == first.citations
    assert second.notices == first.notices and second.index_version == first.index_version
    assert second.answer_id != first.answer_id
    assert cached.answer_cache.stats()["hits"] == 1


def test_callers_share_no_mutable_objects(cached: AssistantService) -> None:
    first = cached.ask(LIST_QUESTION)
    hit = cached.ask(LIST_QUESTION)
    expected = hit.model_copy(deep=True)
    for answer in (first, hit):  # a caller that edits its answer must not change anybody else's
        answer.citations[0].quote = "改掉"
        answer.citations.append(
            Citation(n=99, doc_id="x", title="x", section_path="x", quote="x", start=0, end=1)
        )
        answer.notices.append("改掉")
        answer.timings_ms["total"] = -1
    again = cached.ask(LIST_QUESTION)
    assert again.citations == expected.citations and again.notices == expected.notices
    assert again.timings_ms["total"] >= 0


@pytest.mark.parametrize(
    "variant",
    [
        "淄博計劃的保障措施有哪些？",  # traditional
        "淄博计划的保障措施有哪些?",  # half-width question mark
        "  淄博计划的保障措施有哪些  ",  # no punctuation, surrounding whitespace
        "淄博计划的保障措施有哪些？！",
    ],
)
def test_normalised_forms_hit_the_same_entry(
    cached: AssistantService, searches: SearchCounter, variant: str
) -> None:
    original = cached.ask(LIST_QUESTION)
    answer = cached.ask(variant)
    assert searches.calls == 1 and answer.timings_ms["cache"] == 1.0
    assert answer.answer == original.answer
    assert answer.question == variant.strip() and answer.standalone_question == variant.strip()


def test_full_width_and_latin_case_are_one_key() -> None:
    assert cache_question("淄博每个５Ｇ基站补贴多少钱？") == cache_question("淄博每个5g基站补贴多少钱")
    assert cache_question("淄博 计划") == cache_question("淄博计划")
    assert cache_question("？！") == ""


def test_mode_top_k_and_filters_are_part_of_the_key(
    cached: AssistantService, searches: SearchCounter
) -> None:
    cached.ask(LIST_QUESTION)
    assert cached.ask(LIST_QUESTION, top_k=3).timings_ms["cache"] == 0.0
    filtered = cached.ask(LIST_QUESTION, filters={"doc_id": ["zibo-new-infra-2021"]})
    assert filtered.timings_ms["cache"] == 0.0
    same = cached.ask(LIST_QUESTION, filters={"doc_id": "zibo-new-infra-2021"})
    assert same.timings_ms["cache"] == 1.0
    assert searches.calls == 3
    assert canonical_filters(None) == canonical_filters({}) == ""
    assert canonical_filters({"doc_id": ["b", "a", "a"]}) == canonical_filters({"doc_id": ("a", "b")})
    assert canonical_filters({"doc_id": [1]}) != canonical_filters({"doc_id": ["1"]})


def test_a_cached_answer_is_recorded_in_its_session_so_follow_ups_work(cached: AssistantService) -> None:
    cached.ask(LIST_QUESTION, session_id="a")
    hit = cached.ask(LIST_QUESTION, session_id="b")
    assert hit.timings_ms["cache"] == 1.0 and hit.session_id == "b"
    assert [t.question for t in cached.sessions.history("b")] == [LIST_QUESTION]
    assert cached.last_answer("b") == hit
    follow_a = cached.ask("那第三条呢？", session_id="a")
    follow_b = cached.ask("那第三条呢？", session_id="b")
    assert "cache" not in follow_b.timings_ms, "a follow-up never uses the cache"
    assert "培育产业生态" in follow_b.answer and follow_b.answer == follow_a.answer
    assert follow_b.citations == follow_a.citations


def test_a_follow_up_is_not_served_a_first_turn_answer(
    cached: AssistantService, searches: SearchCounter
) -> None:
    alone = cached.ask("那第三条呢？")  # first turn: cached under its own words
    assert alone.timings_ms["cache"] == 0.0
    cached.ask(LIST_QUESTION, session_id="s")
    calls = searches.calls
    follow_up = cached.ask("那第三条呢？", session_id="s")
    assert searches.calls == calls + 1 and "cache" not in follow_up.timings_ms
    assert "培育产业生态" in follow_up.answer and follow_up.answer != alone.answer
    # and the answer to the follow-up was not stored under "那第三条呢？" either
    assert cached.ask("那第三条呢？").answer == alone.answer


def test_a_standalone_question_later_in_a_session_uses_the_cache(
    cached: AssistantService, searches: SearchCounter
) -> None:
    question = "淄博新基建三年行动计划的文号是什么？"
    first = cached.ask(question)
    cached.ask(LIST_QUESTION, session_id="s")
    later = cached.ask(question, session_id="s")
    assert later.timings_ms["cache"] == 1.0 and later.answer == first.answer
    assert [t.question for t in cached.sessions.history("s")] == [LIST_QUESTION, question]
    assert searches.calls == 2


def test_a_new_day_is_a_new_key(
    built_library: PolicyLibrary, tmp_path: Path, searches: SearchCounter
) -> None:
    today = [dt.date(2023, 6, 1)]
    service = make_service(built_library, tmp_path, clock=lambda: today[0])
    question = "淄博计划提出服务型数字产业向哪里集聚？"
    during = service.ask(question)
    assert not any("已结束" in n for n in during.notices)
    today[0] = dt.date(2026, 1, 1)
    later = service.ask(question)
    assert later.timings_ms["cache"] == 0.0 and searches.calls == 2
    assert any("已结束" in n and "2026-01-01" in n for n in later.notices)


def test_degraded_answers_are_not_cached(cached: AssistantService, searches: SearchCounter) -> None:
    searches.degrade = True
    cached.ask(LIST_QUESTION)
    searches.degrade = False
    assert cached.ask(LIST_QUESTION).timings_ms["cache"] == 0.0
    assert cached.ask(LIST_QUESTION).timings_ms["cache"] == 1.0
    assert searches.calls == 2


UPLOAD = (
    "---\nid: cache-upload-2026\ntitle: 缓存测试文件\n---\n# 第一章\n琉璃星火示范工程要求建成三个试点。\n"
)
NEW_QUESTION = "琉璃星火示范工程要求建成几个试点？"


def _cites_upload(answer: Answer) -> bool:
    return any(c.doc_id == "cache-upload-2026" for c in answer.citations)


def test_reindexing_invalidates_old_entries(
    built_library: PolicyLibrary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = copy_index(built_library, tmp_path / "data")
    library = PolicyLibrary(  # a private copy of the index, sharing the loaded e5 model
        data_dir=data_dir,
        corpus_dirs=[CORPUS_DIR],
        uploads_dir=data_dir / "uploads",
        embeddings=built_library.embeddings,
        embedding_model=built_library.embedding_model,
    )
    searches = SearchCounter(library, monkeypatch)
    service = make_service(library, tmp_path)
    before = service.ask(NEW_QUESTION)
    assert not _cites_upload(before) and service.ask(NEW_QUESTION).timings_ms["cache"] == 1.0
    service.ask(LIST_QUESTION)
    assert searches.calls == 2

    library.add_document(UPLOAD.encode(), "cache-upload.md")  # publishes a new index version
    after = service.ask(NEW_QUESTION)
    assert after.timings_ms["cache"] == 0.0 and after.index_version != before.index_version
    assert not after.refused and _cites_upload(after)
    relisted = service.ask(LIST_QUESTION)
    assert relisted.timings_ms["cache"] == 0.0 and relisted.index_version == after.index_version
    assert service.answer_cache.stats()["invalidations"] == 1 and len(service.answer_cache) == 2
    assert service.ask(NEW_QUESTION).timings_ms["cache"] == 1.0

    library.delete_document("cache-upload-2026")
    gone = service.ask(NEW_QUESTION)
    assert gone.timings_ms["cache"] == 0.0 and not _cites_upload(gone)
    assert gone.index_version != after.index_version
    assert searches.calls == 5


def test_the_lru_bound_holds(built_library: PolicyLibrary, tmp_path: Path, searches: SearchCounter) -> None:
    service = make_service(built_library, tmp_path, size=2)
    questions = [LIST_QUESTION, "淄博新基建三年行动计划的文号是什么？", "红烧肉怎么做比较好吃？"]
    service.ask(questions[0])
    service.ask(questions[1])
    assert service.ask(questions[0]).timings_ms["cache"] == 1.0  # now the most recently used
    service.ask(questions[2])  # evicts questions[1], the least recently used
    assert len(service.answer_cache) == 2
    assert service.ask(questions[0]).timings_ms["cache"] == 1.0
    assert service.ask(questions[1]).timings_ms["cache"] == 0.0
    assert len(service.answer_cache) == 2


def test_size_zero_disables_the_cache(
    built_library: PolicyLibrary, tmp_path: Path, searches: SearchCounter
) -> None:
    service = make_service(built_library, tmp_path, size=0)
    first, second = service.ask(LIST_QUESTION), service.ask(LIST_QUESTION)
    assert searches.calls == 2
    assert "cache" not in first.timings_ms and "cache" not in second.timings_ms
    assert len(service.answer_cache) == 0


def test_settings_size_reaches_the_service(built_library: PolicyLibrary, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, corpus_dir=CORPUS_DIR, answer_cache_size=7)
    service = AssistantService.from_settings(settings, library=built_library)
    assert service.answer_cache.max_entries == 7
    assert Settings().answer_cache_size == 1024
    off = AssistantService.from_settings(settings, library=built_library, answer_cache_size=0)
    assert not off.answer_cache.enabled


def test_stream_serves_a_cached_answer_in_pieces(cached: AssistantService) -> None:
    cached.ask(LIST_QUESTION)
    events = list(cached.stream(LIST_QUESTION))
    final = events[-1]
    assert isinstance(final, Answer) and final.timings_ms["cache"] == 1.0
    assert [(e.kind, e.text) for e in events[:-1]] == [("extract", final.answer)]  # type: ignore[union-attr]


def test_concurrent_asks(cached: AssistantService, searches: SearchCounter) -> None:
    cached.ask(LIST_QUESTION)
    results: list[Answer] = []
    lock = threading.Lock()

    def ask() -> None:
        answer = cached.ask(LIST_QUESTION)
        with lock:
            results.append(answer)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and searches.calls == 1
    assert len({a.answer_id for a in results}) == 8 and len({a.answer for a in results}) == 1
    assert len({id(a.citations) for a in results}) == 8


class FakeGenerator:
    """A generative answerer whose lead repeats evidence sentence [1] (so it verifies), or fails on demand."""

    name = "openai"
    evidence_budget = 400

    def __init__(self) -> None:
        self.calls = 0
        self.rewrites = 0
        self.fail = False

    def lead(self, question: str, evidence: str, hints: Sequence[str] = ()) -> Iterator[str]:
        self.calls += 1
        if self.fail:
            raise TimeoutError("model endpoint down")
        first = re.search(r"^\[1\] (.*)$", evidence, re.M)
        assert first is not None
        yield f"{first.group(1).rstrip('。')}。[1]"

    def usage(self, question: str, evidence: str, text: str, hints: Sequence[str] = ()) -> Usage:
        return Usage(prompt_tokens=100, completion_tokens=20)

    def rewrite(self, question: str, history: Sequence[Turn]) -> str | None:
        self.rewrites += 1
        return None


def test_generative_answers_are_cached_per_mode_and_fallbacks_are_not(
    built_library: PolicyLibrary, tmp_path: Path
) -> None:
    model = FakeGenerator()
    service = AssistantService(
        built_library,
        SqlSessionStore(tmp_path / "s.db"),
        generators={"openai": model},
        clock=lambda: DAY,
        answer_cache_size=16,
    )
    extractive = service.ask(LIST_QUESTION)
    generated = service.ask(LIST_QUESTION, mode="openai")  # the extractive entry is not this mode's
    assert model.calls == 1 and generated.mode == "openai" and generated.answer != extractive.answer
    again = service.ask(LIST_QUESTION, mode="openai")
    assert model.calls == 1 and again.timings_ms["cache"] == 1.0 and again.answer == generated.answer
    assert generated.usage.prompt_tokens == 100 and again.usage.prompt_tokens == 0  # no tokens spent

    model.fail = True  # the fallback to the extract is not cached: the model is tried again next time
    question = "淄博新基建三年行动计划的文号是什么？"
    fallback = service.ask(question, mode="openai")
    assert any("模型服务不可用" in n for n in fallback.notices) and model.calls == 2
    model.fail = False
    recovered = service.ask(question, mode="openai")
    assert model.calls == 3 and recovered.timings_ms["cache"] == 0.0
    assert not any("模型服务不可用" in n for n in recovered.notices)

    # with history the model rewrites every question: no cache, even for a repeated question
    service.ask(LIST_QUESTION, mode="openai", session_id="s")
    in_session = service.ask(LIST_QUESTION, mode="openai", session_id="s")
    assert "cache" not in in_session.timings_ms and model.rewrites == 1


# -- the cache alone -------------------------------------------------------------------------------------
def _key(question: str, version: str = "v1", day: str = "2026-11-29") -> CacheKey:
    return CacheKey(question, "extractive", 5, "", version, day)


def test_a_put_for_a_replaced_version_is_dropped() -> None:
    cache = AnswerCache(4)
    answer = Answer(answer_id="a", answer="x")
    assert cache.get(_key("q", "v1")) is None
    assert cache.get(_key("q", "v2")) is None  # another thread already saw the new version
    assert not cache.put(_key("q", "v1"), answer)  # built on v1: never stored
    assert cache.put(_key("q", "v2"), answer) and len(cache) == 1
    assert cache.get(_key("q", "v2")) is not None


def test_the_cache_under_threads() -> None:
    cache = AnswerCache(16)
    answer = Answer(answer_id="a", answer="x")
    cache.get(_key("q0"))

    def work(n: int) -> None:
        for i in range(300):
            key = _key(f"q{(n * 7 + i) % 40}")
            if cache.get(key) is None:
                cache.put(key, answer)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats()
    assert stats["size"] <= 16 and stats["hits"] + stats["misses"] == 6 * 300 + 1


def test_metrics_count_hits_and_misses() -> None:
    metrics = ApiMetrics()
    metrics.record_answer(Answer(answer_id="1", answer="x", timings_ms={"cache": 0.0, "total": 5}))
    metrics.record_answer(Answer(answer_id="2", answer="x", timings_ms={"cache": 1.0, "total": 1}))
    metrics.record_answer(Answer(answer_id="3", answer="x", timings_ms={"cache": 1.0, "total": 1}))
    metrics.record_answer(Answer(answer_id="4", answer="x", timings_ms={"total": 9}))  # not eligible
    value = metrics.registry.get_sample_value
    assert value("policybot_answer_cache_total", {"result": "hit"}) == 2
    assert value("policybot_answer_cache_total", {"result": "miss"}) == 1
