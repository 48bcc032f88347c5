"""The first schema: sessions, feedback and answer log, channel claims, the document registry and the
published index versions.

Data directories written before migrations existed already hold some of these tables (created with
`CREATE TABLE IF NOT EXISTS`): those are kept as they are, with their rows, and only the missing tables are
created. The oldest Telegram feedback table has no `id` column: it is rebuilt with one (ids = old rowids).

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    if "feedback" in existing and "id" not in {c["name"] for c in inspector.get_columns("feedback")}:
        _add_feedback_ids(bind)
    for table in schema.metadata.sorted_tables:
        if table.name not in existing:
            table.create(bind)


def _add_feedback_ids(bind: sa.Connection) -> None:
    op.rename_table("feedback", "feedback_without_ids")
    bind.exec_driver_sql("DROP INDEX IF EXISTS feedback_answer")
    schema.feedback.create(bind)
    bind.exec_driver_sql(
        "INSERT INTO feedback (id, answer_id, rating, comment, source, created)"
        " SELECT rowid, answer_id, rating, comment, source, created FROM feedback_without_ids ORDER BY rowid"
    )
    op.drop_table("feedback_without_ids")


def downgrade() -> None:
    for table in reversed(schema.metadata.sorted_tables):
        op.drop_table(table.name)
