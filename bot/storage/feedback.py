"""Feedback and the answer log shared by every surface (API, Telegram, WeCom, DingTalk).

`feedback` holds 👍/👎/comments (source "api", "telegram:<chat>:<user>", …); `answers` holds every answer a
surface sent (when `log_answers` is on), so `policybot eval export-feedback` can turn a 👎 into a draft eval
item with the question and the answer given. A feedback row is committed before `add_feedback` returns: an
acknowledged rating survives the replica that took it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from bot.answer import Answer
from bot.storage import schema
from bot.storage.database import Database
from bot.storage.opening import open_store_database
from bot.storage.upsert import upsert

RATINGS = ("up", "down", "comment")
_FEEDBACK_COLUMNS = ("id", "answer_id", "rating", "comment", "source", "created")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """Safe to call from worker threads, worker processes and replicas: one transaction per call."""

    def __init__(self, database: Database | Path) -> None:
        self.database, self._owned = open_store_database(database)

    def add_feedback(
        self, answer_id: str, rating: str, comment: str = "", source: str = "api"
    ) -> dict[str, Any]:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
        row = {
            "answer_id": answer_id,
            "rating": rating,
            "comment": comment,
            "source": source,
            "created": _now(),
        }
        with self.database.write() as db:
            new_id = db.execute(
                schema.feedback.insert().values(**row).returning(schema.feedback.c.id)
            ).scalar_one()
        return {"id": int(new_id), **row}

    def feedback(self, answer_id: str | None = None) -> list[dict[str, Any]]:
        f = schema.feedback
        query = select(*(f.c[name] for name in _FEEDBACK_COLUMNS)).order_by(f.c.id)
        if answer_id:
            query = query.where(f.c.answer_id == answer_id)
        with self.database.read() as db:
            rows = db.execute(query).all()
        return [dict(zip(_FEEDBACK_COLUMNS, r, strict=True)) for r in rows]

    def log_answer(self, answer: Answer) -> None:
        with self.database.write() as db:
            upsert(
                db,
                schema.answers,
                {
                    "answer_id": answer.answer_id,
                    "question": answer.question,
                    "answer_json": answer.model_dump_json(),
                    "created": _now(),
                },
                update=("question", "answer_json", "created"),
            )

    def answer(self, answer_id: str) -> dict[str, Any] | None:
        a = schema.answers
        with self.database.read() as db:
            value = db.execute(select(a.c.answer_json).where(a.c.answer_id == answer_id)).scalar()
        return None if value is None else json.loads(value)

    def prune(self, retention_days: int) -> int:
        """Drops logged answers older than `retention_days` (0 or less: keep everything)."""
        if retention_days <= 0:
            return 0
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=retention_days)).isoformat(timespec="seconds")
        with self.database.write() as db:
            return db.execute(delete(schema.answers).where(schema.answers.c.created < cutoff)).rowcount

    def close(self) -> None:
        if self._owned:
            self.database.dispose()
