"""The tables, as SQLAlchemy Core metadata: the one description both SQLite and PostgreSQL are built from
(by the Alembic migrations in `bot/storage/migrations/`)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

# conversations: the last turns of each session and small per-session values ("last_answer")
turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created", Float, nullable=False),
    Index("turns_session", "session_id", "id"),
    sqlite_autoincrement=True,
)
session_values = Table(
    "session_values",
    metadata,
    Column("session_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# 👍/👎/comments from every surface, and the answers they rate
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", Text, nullable=False),
    Column("rating", Text, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("source", Text, nullable=False, server_default="api"),
    Column("created", Text, nullable=False),
    CheckConstraint("rating IN ('up', 'down', 'comment')", name="feedback_rating"),
    Index("feedback_answer", "answer_id"),
    sqlite_autoincrement=True,
)
answers = Table(
    "answers",
    metadata,
    Column("answer_id", Text, primary_key=True),
    Column("question", Text, nullable=False),
    Column("answer_json", Text, nullable=False),
    Column("created", Text, nullable=False),
    Index("answers_created", "created"),
)

# chat-platform message ids taken on (a retry is answered once, on whichever replica it lands)
claimed = Table(
    "claimed",
    metadata,
    Column("key", Text, primary_key=True),
    Column("created", Text, nullable=False),
    Index("claimed_created", "created"),
)

# the document registry: every uploaded file (a delete leaves a tombstone, so every replica learns of it)
uploads = Table(
    "uploads",
    metadata,
    Column("doc_id", Text, primary_key=True),
    Column("filename", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("updated", Text, nullable=False),
)

# published index versions: the files of each version (chunks, manifest, sentence vectors) and which serves
index_files = Table(
    "index_files",
    metadata,
    Column("version", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("content", LargeBinary, nullable=False),
)
index_current = Table(
    "index_current",
    metadata,
    Column("name", Text, primary_key=True),  # always "current": one row
    Column("version", Text, nullable=False),
    Column("published", Text, nullable=False),
)
