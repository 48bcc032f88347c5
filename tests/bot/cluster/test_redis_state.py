"""The Redis-backed rate limiter, answer cache and version signal against a real redis-server: one limit and
one cache for every replica (two clients stand for two replicas), and no failed request when Redis is gone."""

from __future__ import annotations

import threading
import time

from bot.answer import Answer
from bot.answer_cache import CacheKey
from bot.cluster.redis_state import RedisAnswerCache, RedisRateLimiter, redis_client
from bot.cluster.signals import RedisSignal
from evals.bench.server import free_port
from evals.cluster.services import RedisServer


def _key(version: str, question: str = "基本原则有哪些") -> CacheKey:
    return CacheKey(question, "extractive", 5, "", version, "2026-01-01")


def test_one_limit_across_replicas(redis_server: RedisServer) -> None:
    replicas = [RedisRateLimiter(redis_client(redis_server.url), per_minute=10) for _ in range(2)]
    client = f"client-{time.time_ns()}"
    results = [replicas[n % 2].hit(client) for n in range(14)]
    assert results[:10] == [None] * 10  # 5 on each replica: both count into one window
    assert all(r is not None and 1 <= r <= 60 for r in results[10:])
    assert replicas[0].hit(f"other-{time.time_ns()}") is None


def test_cache_is_shared_and_dropped_on_a_new_version(redis_server: RedisServer) -> None:
    first, second = (RedisAnswerCache(redis_client(redis_server.url)) for _ in range(2))
    answer = Answer(answer_id="a1", answer="回答[1]", question="基本原则有哪些？", index_version="v1")
    assert first.get(_key("v1")) is None
    assert first.put(_key("v1"), answer, ["二、基本原则"])
    hit = second.get(_key("v1"))
    assert hit is not None and hit.answer == answer and hit.list_items == ("二、基本原则",)
    assert second.get(_key("v2")) is None  # never served for another index version
    second.put(_key("v2", "别的问题"), answer)
    assert first.drop_versions_except("v2") == 1
    assert second.get(_key("v1")) is None and first.get(_key("v2", "别的问题")) is not None


def test_without_redis_requests_pass_and_the_cache_misses() -> None:
    gone = redis_client(f"redis://127.0.0.1:{free_port()}/0")
    assert RedisRateLimiter(gone, per_minute=1).hit("c") is None
    cache = RedisAnswerCache(gone)
    assert cache.get(_key("v1")) is None and not cache.put(_key("v1"), Answer(answer_id="a", answer="x"))


def test_signal_reaches_every_subscriber(redis_server: RedisServer) -> None:
    listeners = [RedisSignal(redis_client(redis_server.url)) for _ in range(2)]
    for listener in listeners:
        assert not listener.wait(0.1)  # subscribes
    heard: list[bool] = []
    threads = [threading.Thread(target=lambda s=s: heard.append(s.wait(5))) for s in listeners]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    RedisSignal(redis_client(redis_server.url)).publish("v9")
    for thread in threads:
        thread.join()
    assert heard == [True, True]
    for listener in listeners:
        listener.close()
