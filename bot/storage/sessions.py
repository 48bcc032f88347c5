"""Conversation memory: the last turns of each session and small per-session values ("last_answer")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, func, select

from bot.answer import Turn
from bot.storage import schema
from bot.storage.database import Database
from bot.storage.opening import open_store_database
from bot.storage.upsert import upsert


class SessionStore(Protocol):
    def history(self, session_id: str) -> list[Turn]: ...
    def append(self, session_id: str, turn: Turn) -> None: ...
    def reset(self, session_id: str) -> None: ...
    def set_value(self, session_id: str, key: str, value: Any) -> None: ...
    def get_value(self, session_id: str, key: str, default: Any = None) -> Any: ...


class SqlSessionStore:
    """Sessions in SQLite or PostgreSQL: one short transaction per write, safe under threads, worker
    processes and replicas (a turn appended on one is in the history read on another)."""

    def __init__(self, database: Database | Path, max_turns: int = 10) -> None:
        self.database, self._owned = open_store_database(database)
        self.max_turns = max_turns

    def history(self, session_id: str) -> list[Turn]:
        t = schema.turns
        latest = (
            select(t.c.id, t.c.payload)
            .where(t.c.session_id == session_id)
            .order_by(t.c.id.desc())
            .limit(self.max_turns)
            .subquery()
        )
        with self.database.read() as db:
            rows = db.execute(select(latest.c.payload).order_by(latest.c.id)).all()
        return [Turn.model_validate_json(row[0]) for row in rows]

    def append(self, session_id: str, turn: Turn) -> None:
        t = schema.turns
        kept = (
            select(t.c.id)
            .where(t.c.session_id == session_id)
            .order_by(t.c.id.desc())
            .limit(self.max_turns)
            .scalar_subquery()
        )
        with self.database.write() as db:
            db.execute(
                t.insert().values(session_id=session_id, payload=turn.model_dump_json(), created=turn.created)
            )
            db.execute(delete(t).where(t.c.session_id == session_id, t.c.id.not_in(kept)))

    def reset(self, session_id: str) -> None:
        with self.database.write() as db:
            db.execute(delete(schema.turns).where(schema.turns.c.session_id == session_id))
            db.execute(delete(schema.session_values).where(schema.session_values.c.session_id == session_id))

    def set_value(self, session_id: str, key: str, value: Any) -> None:
        with self.database.write() as db:
            upsert(
                db,
                schema.session_values,
                {"session_id": session_id, "key": key, "value": json.dumps(value, ensure_ascii=False)},
                update=("value",),
            )

    def get_value(self, session_id: str, key: str, default: Any = None) -> Any:
        v = schema.session_values
        with self.database.read() as db:
            value = db.execute(select(v.c.value).where(v.c.session_id == session_id, v.c.key == key)).scalar()
        return default if value is None else json.loads(value)

    def count_turns(self) -> int:
        with self.database.read() as db:
            return int(db.execute(select(func.count()).select_from(schema.turns)).scalar_one())

    def close(self) -> None:
        if self._owned:
            self.database.dispose()
