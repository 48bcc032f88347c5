"""Conversation memory. The store is an interface; the embedded default is SQLite (WAL) under the data dir."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from bot import sqlite_wal


class Turn(BaseModel):
    question: str
    standalone_question: str
    answer: str
    refused: bool = False
    doc_ids: list[str] = Field(default_factory=list)
    list_items: list[str] = Field(default_factory=list, description="section paths of an enumerated answer")
    section_paths: list[str] = Field(default_factory=list)
    created: float = Field(default_factory=time.time)


class SessionStore(Protocol):
    def history(self, session_id: str) -> list[Turn]: ...
    def append(self, session_id: str, turn: Turn) -> None: ...
    def reset(self, session_id: str) -> None: ...
    def set_value(self, session_id: str, key: str, value: Any) -> None: ...
    def get_value(self, session_id: str, key: str, default: Any = None) -> Any: ...


class SQLiteSessionStore:
    """Safe under threads and several worker processes: WAL, one short transaction per write."""

    def __init__(self, path: Path, max_turns: int = 10) -> None:
        self.path = path
        self.max_turns = max_turns
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,"
                " payload TEXT NOT NULL, created REAL NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS turns_session ON turns(session_id, id)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS session_values (session_id TEXT NOT NULL, key TEXT NOT NULL,"
                " value TEXT NOT NULL, PRIMARY KEY (session_id, key))"
            )

    def _connect(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite_wal.connect(self.path)
            self._local.connection = connection
        return connection

    def history(self, session_id: str) -> list[Turn]:
        rows = self._connect().execute(
            "SELECT payload FROM (SELECT id, payload FROM turns WHERE session_id=? ORDER BY id DESC LIMIT ?)"
            " ORDER BY id",
            (session_id, self.max_turns),
        )
        return [Turn.model_validate_json(row[0]) for row in rows]

    def append(self, session_id: str, turn: Turn) -> None:
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT INTO turns (session_id, payload, created) VALUES (?, ?, ?)",
                (session_id, turn.model_dump_json(), turn.created),
            )
            db.execute(
                "DELETE FROM turns WHERE session_id=? AND id NOT IN "
                "(SELECT id FROM turns WHERE session_id=? ORDER BY id DESC LIMIT ?)",
                (session_id, session_id, self.max_turns),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def reset(self, session_id: str) -> None:
        db = self._connect()
        db.execute("DELETE FROM turns WHERE session_id=?", (session_id,))
        db.execute("DELETE FROM session_values WHERE session_id=?", (session_id,))

    def set_value(self, session_id: str, key: str, value: Any) -> None:
        self._connect().execute(
            "INSERT INTO session_values (session_id, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT(session_id, key) DO UPDATE SET value=excluded.value",
            (session_id, key, json.dumps(value, ensure_ascii=False)),
        )

    def get_value(self, session_id: str, key: str, default: Any = None) -> Any:
        row = (
            self._connect()
            .execute("SELECT value FROM session_values WHERE session_id=? AND key=?", (session_id, key))
            .fetchone()
        )
        return default if row is None else json.loads(row[0])

    def count_turns(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM turns").fetchone()[0])
