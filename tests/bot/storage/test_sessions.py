"""Sessions on SQLite and PostgreSQL alike: history window, values, reset, and concurrent writers."""

from __future__ import annotations

import threading

from bot.answer import Turn
from bot.storage.database import Database
from bot.storage.sessions import SqlSessionStore


def _turn(n: int) -> Turn:
    return Turn(question=f"问题{n}", standalone_question=f"问题{n}", answer=f"回答{n}", doc_ids=["d"])


def test_history_keeps_the_last_turns_in_order(database: Database) -> None:
    store = SqlSessionStore(database, max_turns=3)
    for n in range(5):
        store.append("s1", _turn(n))
    store.append("s2", _turn(9))
    assert [t.question for t in store.history("s1")] == ["问题2", "问题3", "问题4"]
    assert [t.question for t in store.history("s2")] == ["问题9"]
    assert store.history("none") == []
    assert store.count_turns() == 4


def test_values_round_trip_and_reset_clears_both(database: Database) -> None:
    store = SqlSessionStore(database)
    store.set_value("s1", "last_answer", {"answer": "旧", "n": [1]})
    store.set_value("s1", "last_answer", {"answer": "新", "n": [2]})
    assert store.get_value("s1", "last_answer") == {"answer": "新", "n": [2]}
    assert store.get_value("s1", "other", default=7) == 7
    store.append("s1", _turn(1))
    store.reset("s1")
    assert store.history("s1") == [] and store.get_value("s1", "last_answer") is None


def test_two_stores_on_one_database_see_each_other(database_url: str) -> None:
    # two replicas: each its own pool on the same database
    first, second = Database(database_url), Database(database_url)
    a, b = SqlSessionStore(first), SqlSessionStore(second)
    for n in range(5):
        (a if n % 2 else b).append("conv", _turn(n))
    assert [t.question for t in a.history("conv")] == [f"问题{n}" for n in range(5)]
    assert b.history("conv") == a.history("conv")
    first.dispose()
    second.dispose()


def test_concurrent_appends_lose_nothing(database_url: str) -> None:
    pools = [Database(database_url) for _ in range(2)]
    stores = [SqlSessionStore(pool, max_turns=1000) for pool in pools]

    def write(worker: int) -> None:
        for n in range(25):
            stores[worker % 2].append(f"s{worker % 3}", _turn(worker * 100 + n))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stores[0].count_turns() == 150
    assert sum(len(stores[1].history(f"s{i}")) for i in range(3)) == 150
    for pool in pools:
        pool.dispose()
