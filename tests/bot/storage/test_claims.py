"""A chat message is claimed once across pools (replicas), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

from bot.storage.claims import MessageClaims
from bot.storage.database import Database


def test_each_key_is_claimed_once_across_replicas(database_url: str) -> None:
    pools = [Database(database_url) for _ in range(2)]
    claims = [MessageClaims(pool) for pool in pools]
    won: list[str] = []

    def claim(worker: int) -> None:
        for n in range(30):
            if claims[worker % 2].claim(f"wecom:{n}"):
                won.append(f"wecom:{n}")

    threads = [threading.Thread(target=claim, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == sorted(f"wecom:{n}" for n in range(30))
    assert not claims[0].claim("wecom:1") and claims[1].claim("wecom:new")
    for pool in pools:
        pool.dispose()
