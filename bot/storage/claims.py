"""Which incoming chat messages have been taken on, so a platform's retry or redelivery is answered once even
when it reaches another worker or replica, or arrives after a restart. A claim is one insert-if-absent on the
message key; claims older than a day are dropped (platforms retry within seconds to minutes)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from sqlalchemy import delete

from bot.storage import schema
from bot.storage.database import Database
from bot.storage.opening import open_store_database
from bot.storage.upsert import insert_new

KEEP = dt.timedelta(days=1)
PRUNE_EVERY = 1000  # claims between two prunes


class MessageClaims:
    def __init__(self, database: Database | Path) -> None:
        self.database, self._owned = open_store_database(database)
        self._lock = threading.Lock()
        self._since_prune = 0

    def claim(self, key: str) -> bool:
        """True for the first claim of `key` by any process; False for every later one."""
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            self._since_prune += 1
            prune = self._since_prune >= PRUNE_EVERY
            if prune:
                self._since_prune = 0
        with self.database.write() as db:
            inserted = insert_new(db, schema.claimed, {"key": key, "created": now.isoformat()})
            if prune:
                db.execute(delete(schema.claimed).where(schema.claimed.c.created < (now - KEEP).isoformat()))
        return inserted

    def close(self) -> None:
        if self._owned:
            self.database.dispose()
