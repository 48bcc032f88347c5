"""The document registry: the uploaded files, and the published index versions with their files.

Uploads are kept here (content and all), not only on one machine's disk, so whichever process builds the next
index version sees every upload; a delete leaves a tombstone so every copy of the uploads folder learns of it.
A published version is its files (chunks, manifest, sentence vectors) plus one `current` pointer, written in
one transaction: a replica that reads the pointer finds every file of that version."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select

from bot.storage import schema
from bot.storage.database import Database
from bot.storage.opening import open_store_database
from bot.storage.upsert import upsert


@dataclass(frozen=True)
class StoredUpload:
    doc_id: str
    filename: str
    content: bytes
    sha256: str
    deleted: bool
    updated: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


class DocumentRegistry:
    def __init__(self, database: Database | Path) -> None:
        self.database, self._owned = open_store_database(database)

    # -- uploads -----------------------------------------------------------------------------------
    def put_upload(self, doc_id: str, filename: str, content: bytes) -> StoredUpload:
        row = StoredUpload(doc_id, filename, content, hashlib.sha256(content).hexdigest(), False, _now())
        with self.database.write() as db:
            upsert(
                db,
                schema.uploads,
                row.__dict__,
                update=("filename", "content", "sha256", "deleted", "updated"),
            )
        return row

    def delete_upload(self, doc_id: str) -> bool:
        """Leave a tombstone; False when no live upload has this id."""
        u = schema.uploads
        with self.database.write() as db:
            changed = db.execute(
                u.update()
                .where(u.c.doc_id == doc_id, u.c.deleted.is_(False))
                .values(deleted=True, content=b"", updated=_now())
            ).rowcount
        return changed == 1

    def uploads(self, include_deleted: bool = False) -> list[StoredUpload]:
        u = schema.uploads
        query = select(u.c.doc_id, u.c.filename, u.c.content, u.c.sha256, u.c.deleted, u.c.updated).order_by(
            u.c.doc_id
        )
        if not include_deleted:
            query = query.where(u.c.deleted.is_(False))
        with self.database.read() as db:
            return [StoredUpload(*row) for row in db.execute(query).all()]

    # -- index versions ----------------------------------------------------------------------------
    def publish_version(self, version: str, files: Mapping[str, bytes], keep: int = 2) -> None:
        """Store `version`'s files and make it current, in one transaction; versions other than the newest
        `keep` are dropped (a replica still loading the previous one finds it)."""
        with self.database.write() as db:
            db.execute(delete(schema.index_files).where(schema.index_files.c.version == version))
            if files:
                db.execute(
                    schema.index_files.insert(),
                    [
                        {"version": version, "name": name, "content": content}
                        for name, content in files.items()
                    ],
                )
            upsert(
                db,
                schema.index_current,
                {"name": "current", "version": version, "published": _now()},
                update=("version", "published"),
            )
            previous = self._previous_versions(db, version)
            stale = previous[max(0, keep - 1) :]
            if stale:
                db.execute(delete(schema.index_files).where(schema.index_files.c.version.in_(stale)))

    @staticmethod
    def _previous_versions(db: object, current: str) -> list[str]:
        f = schema.index_files
        rows = db.execute(  # type: ignore[attr-defined]
            select(f.c.version).where(f.c.version != current).distinct().order_by(f.c.version.desc())
        ).all()
        return [row[0] for row in rows]

    def current_version(self) -> str | None:
        c = schema.index_current
        with self.database.read() as db:
            return db.execute(select(c.c.version).where(c.c.name == "current")).scalar()

    def version_files(self, version: str) -> dict[str, bytes]:
        f = schema.index_files
        with self.database.read() as db:
            rows = db.execute(select(f.c.name, f.c.content).where(f.c.version == version)).all()
        return {name: bytes(content) for name, content in rows}

    def close(self) -> None:
        if self._owned:
            self.database.dispose()
