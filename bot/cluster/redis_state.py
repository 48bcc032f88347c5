"""State every replica must share when Redis is configured: the per-client rate limit and the answer cache.

Both have the in-process interfaces (`RateLimiter.hit`, `AnswerCache.get/put`), so the API and the service do
not know which one they use. When Redis cannot be reached a request is neither refused nor failed: the limiter
lets it through and the cache misses, and the outage is logged (at most once a minute)."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bot.answer import Answer
from bot.answer_cache import CachedAnswer, CacheKey

log = logging.getLogger("policybot.cluster")
RATE_PREFIX = "policybot:rate:"
CACHE_PREFIX = "policybot:answers:"
CACHE_TTL_S = 24 * 3600  # the day is part of the key: nothing older can be served anyway


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


class _OutageLog:
    def __init__(self) -> None:
        self._last = 0.0
        self._lock = threading.Lock()

    def warn(self, what: str) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < 60:
                return
            self._last = now
        log.warning("Redis unreachable (%s): continuing without it", what, exc_info=True)


class RedisRateLimiter:
    """Fixed window per minute, one counter per client and window for all replicas (INCR + EXPIRE)."""

    def __init__(self, client: Any, per_minute: int) -> None:
        self.client = client
        self.per_minute = per_minute
        self._outage = _OutageLog()

    def hit(self, key: str) -> int | None:
        """None when allowed, else seconds until the window resets."""
        if self.per_minute <= 0:
            return None
        now = time.time()
        counter = f"{RATE_PREFIX}{key}:{int(now // 60)}"
        try:
            pipe = self.client.pipeline()
            pipe.incr(counter)
            pipe.expire(counter, 120)
            count = int(pipe.execute()[0])
        except Exception:
            self._outage.warn("rate limit")
            return None
        if count > self.per_minute:
            return max(1, int(60 - now % 60))
        return None


class RedisAnswerCache:
    """The answer cache shared by every replica. Keys carry the index version and the day, so an answer built
    on another version is never served; `drop_versions_except` removes the others' entries at once when a
    version is published (Redis's own memory limit and a one-day TTL bound the rest)."""

    def __init__(self, client: Any, enabled: bool = True) -> None:
        self.client = client
        self._enabled = enabled
        self._outage = _OutageLog()
        self.hits = 0
        self.misses = 0
        self.invalidations = 0

    @property
    def enabled(self) -> bool:
        return self._enabled

    @staticmethod
    def redis_key(key: CacheKey) -> str:
        rest = json.dumps([key.question, key.mode, key.top_k, key.filters], ensure_ascii=False)
        digest = hashlib.sha256(rest.encode()).hexdigest()[:32]
        return f"{CACHE_PREFIX}{key.index_version}:{key.day}:{digest}"

    def get(self, key: CacheKey) -> CachedAnswer | None:
        try:
            raw = self.client.get(self.redis_key(key))
        except Exception:
            self._outage.warn("answer cache")
            raw = None
        if raw is None:
            self.misses += 1
            return None
        data = json.loads(raw)
        self.hits += 1
        return CachedAnswer(Answer.model_validate(data["answer"]), tuple(data["list_items"]))

    def put(self, key: CacheKey, answer: Answer, list_items: Sequence[str] = ()) -> bool:
        if not self._enabled:
            return False
        value = json.dumps(
            {"answer": answer.model_dump(mode="json"), "list_items": list(list_items), "key": asdict(key)},
            ensure_ascii=False,
        )
        try:
            self.client.set(self.redis_key(key), value, ex=CACHE_TTL_S)
        except Exception:
            self._outage.warn("answer cache")
            return False
        return True

    def drop_versions_except(self, version: str) -> int:
        """Delete every cached answer of another index version; the number deleted."""
        keep = f"{CACHE_PREFIX}{version}:"
        dropped = 0
        try:
            stale = [
                k
                for k in self.client.scan_iter(match=f"{CACHE_PREFIX}*", count=500)
                if not k.decode().startswith(keep)
            ]
            for i in range(0, len(stale), 500):
                dropped += int(self.client.delete(*stale[i : i + 500]))
        except Exception:
            self._outage.warn("answer cache invalidation")
        if dropped:
            self.invalidations += 1
        return dropped

    def clear(self) -> None:
        self.drop_versions_except("\0")

    def __len__(self) -> int:
        try:
            return sum(1 for _ in self.client.scan_iter(match=f"{CACHE_PREFIX}*", count=500))
        except Exception:
            return 0

    def stats(self) -> dict[str, int]:
        return {
            "size": len(self),
            "max_entries": -1,
            "hits": self.hits,
            "misses": self.misses,
            "invalidations": self.invalidations,
        }
