"""From settings to the shared pieces: the document registry and publish lock, Redis (when configured), the
rate limiter and the answer cache. Unreachable servers are reported once, clearly, at start-up."""

from __future__ import annotations

from typing import Any

from bot.answer_cache import AnswerCache
from bot.cluster.locks import publish_lock
from bot.cluster.redis_state import RedisAnswerCache, redis_client
from bot.cluster.shared_index import SharedIndex
from bot.cluster.signals import NoSignal, RedisSignal
from bot.config import Settings
from bot.storage.database import safe_url
from bot.storage.opening import database_for, store_database
from bot.storage.registry import DocumentRegistry
from retrieval.library import PolicyLibrary


class RedisUnavailable(RuntimeError):
    """POLICYBOT_REDIS_URL is set but the server does not answer."""


def redis_from_settings(settings: Settings, check: bool = False) -> Any | None:
    if not settings.redis_url:
        return None
    client = redis_client(settings.redis_url)
    if check:
        try:
            client.ping()
        except Exception as exc:
            raise RedisUnavailable(f"cannot reach Redis at {safe_url(settings.redis_url)}: {exc}") from exc
    return client


def shared_index(
    settings: Settings, library: PolicyLibrary, redis: Any | None = None, cache: Any | None = None
) -> SharedIndex:
    """The document flow of this deployment (see bot/cluster/shared_index.py)."""
    from bot.evidence import save_sentence_vectors

    database = database_for(settings, "registry")
    return SharedIndex(
        library,
        DocumentRegistry(database),
        lock=publish_lock(database, library.layout.root / "PUBLISH.lock"),
        shared=database.is_shared,
        signal=RedisSignal(redis) if redis is not None else NoSignal(),
        poll_seconds=settings.index_poll_seconds,
        # replicas load the sentence vectors with the version; one machine embeds them on first use
        after_build=save_sentence_vectors if database.is_shared else None,
        on_published=getattr(cache, "drop_versions_except", None),
    )


def local_index(library: PolicyLibrary) -> SharedIndex:
    """The embedded default for a library composed by hand (tests, evals): registry beside its index."""
    database = store_database(None, library.layout.data_dir, "registry")
    return SharedIndex(
        library,
        DocumentRegistry(database),
        lock=publish_lock(database, library.layout.root / "PUBLISH.lock"),
        shared=False,
    )


def answer_cache(settings: Settings, redis: Any | None, size: int) -> AnswerCache | RedisAnswerCache:
    if redis is not None:
        return RedisAnswerCache(redis, enabled=size > 0)
    return AnswerCache(size)
