"""Moving a single-machine deployment to the shared database: copy what an embedded data dir holds (its
SQLite files, brought to the current schema first, and the files in its uploads folder) into the configured
database. Run once, into a database that has no sessions or feedback yet (`policybot db import-sqlite DIR`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Table, func, select

from bot.storage import schema
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.storage.opening import SQLITE_FILES
from bot.storage.registry import DocumentRegistry
from bot.storage.upsert import insert_new

BATCH = 500
# tables whose ids the target assigns (copied in id order); the others keep their natural keys
RENUMBERED = (schema.turns, schema.feedback)
TABLES: dict[str, tuple[Table, ...]] = {
    "sessions": (schema.turns, schema.session_values),
    "feedback": (schema.feedback, schema.answers),
    "claims": (schema.claimed,),
    "registry": (schema.uploads,),
}


class TargetNotEmpty(RuntimeError):
    """The target database already has sessions or feedback: an import would mix two histories."""


def import_sqlite_dir(data_dir: Path, target: Database) -> dict[str, int]:
    """Copy every row of `data_dir`'s SQLite stores and its uploads folder into `target`; rows per table."""
    upgrade(target)
    with target.read() as db:
        for table in RENUMBERED:
            if db.execute(select(func.count()).select_from(table)).scalar_one():
                raise TargetNotEmpty(
                    f"{target.describe()} already has rows in {table.name}: import into a new database"
                )
    copied: dict[str, int] = {}
    for store, tables in TABLES.items():
        path = data_dir / SQLITE_FILES[store]
        if not path.exists():
            continue
        source = Database.sqlite_file(path)
        upgrade(source)
        for table in tables:
            copied[table.name] = copied.get(table.name, 0) + _copy(table, source, target)
        source.dispose()
    registry = DocumentRegistry(target)
    known = {u.doc_id for u in registry.uploads(include_deleted=True)}
    uploads = data_dir / "uploads"
    for path in sorted(uploads.iterdir()) if uploads.is_dir() else ():
        if path.is_file() and not path.name.startswith(".") and path.stem not in known:
            registry.put_upload(path.stem, path.name, path.read_bytes())
            copied["uploads"] = copied.get("uploads", 0) + 1
    return copied


def _copy(table: Table, source: Database, target: Database) -> int:
    renumber = table in RENUMBERED
    order = table.c.id if renumber else next(iter(table.primary_key.columns))
    with source.read() as db:
        rows = [dict(row) for row in db.execute(select(table).order_by(order)).mappings()]
    count = 0
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        with target.write() as db:
            if renumber:
                db.execute(table.insert(), [{k: v for k, v in row.items() if k != "id"} for row in batch])
                count += len(batch)
            else:
                count += sum(insert_new(db, table, row) for row in batch)
    return count
