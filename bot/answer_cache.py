"""An in-memory LRU cache of answers, keyed by the normalised question and everything else that decides the
answer: mode, top_k, filters, the serving index version and the day (notices name today's date).

Entries of another index version or day are dropped as soon as a lookup sees the new one (a re-index, an
upload or a delete publishes a new version; every worker reads CURRENT on each lookup), and the version is
part of the key, so an answer built on an old index is never served. The cache keeps private deep copies;
the service hands each caller its own copy. Safe under threads (one lock); each worker process has its own.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.answer import Answer
from retrieval.normalize import compact


def cache_question(text: str) -> str:
    """The question as the cache sees it: simplified, half-width, lower-case, no whitespace, and no
    punctuation at either end ("基本原则有哪些？" = "基本原则有哪些?" = "基本原則有哪些 ")."""
    text = compact(text)
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(text[end - 1]).startswith("P"):
        end -= 1
    return text[start:end]


def canonical_filters(filters: Mapping[str, Any] | None) -> str:
    """Filters that select the same chunks give the same string: a scalar equals a one-item list, list
    order and repeats do not matter, and no filters equals empty filters."""
    if not filters:
        return ""
    canonical = {}
    for key, wanted in filters.items():
        values = list(wanted) if isinstance(wanted, list | tuple | set | frozenset) else [wanted]
        unique = {json.dumps(v, ensure_ascii=False, sort_keys=True, default=str) for v in values}
        canonical[str(key)] = sorted(unique)
    return json.dumps(canonical, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class CacheKey:
    question: str  # cache_question(...) of the standalone question
    mode: str
    top_k: int
    filters: str  # canonical_filters(...)
    index_version: str
    day: str  # ISO date of the service clock

    @property
    def generation(self) -> tuple[str, str]:
        return self.index_version, self.day


@dataclass(frozen=True)
class CachedAnswer:
    answer: Answer  # private copy: never handed out, always copied first
    list_items: tuple[str, ...] = ()  # the enumerated sections, remembered in the session for "第三条"


class AnswerCache:
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max(0, int(max_entries))
        self._entries: OrderedDict[CacheKey, CachedAnswer] = OrderedDict()
        self._generation: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.invalidations = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedAnswer | None:
        with self._lock:
            if key.generation != self._generation:
                # a new index version (or a new day): nothing cached before can be served again
                if self._entries:
                    self.invalidations += 1
                self._entries.clear()
                self._generation = key.generation
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: CacheKey, answer: Answer, list_items: Sequence[str] = ()) -> bool:
        """Store a copy; skipped (False) when the answer was built for a version or day that a later
        lookup has already replaced."""
        if not self.enabled:
            return False
        entry = CachedAnswer(answer.model_copy(deep=True), tuple(list_items))
        with self._lock:
            if key.generation != self._generation:
                return False
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation = None

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "size": len(self._entries),
                "max_entries": self.max_entries,
                "hits": self.hits,
                "misses": self.misses,
                "invalidations": self.invalidations,
            }
