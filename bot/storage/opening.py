"""Which database each store uses: the one of POLICYBOT_DATABASE_URL, or (the embedded default) a SQLite
file per store under the data dir, where they have always been, so an existing data dir keeps its data."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from bot.config import Settings
from bot.storage.database import Database, shared_database
from bot.storage.migrate import upgrade

StoreName = Literal["sessions", "feedback", "claims", "registry"]
SQLITE_FILES: dict[str, str] = {
    "sessions": "sessions.sqlite3",
    "feedback": "feedback.sqlite3",
    "claims": "channel_messages.sqlite3",
    "registry": "registry.sqlite3",
}


def store_database(database_url: str | None, data_dir: Path, store: StoreName) -> Database:
    """The (shared, migrated) database of one store."""
    if database_url:
        database = shared_database(database_url)
    else:
        path = data_dir / SQLITE_FILES[store]
        path.parent.mkdir(parents=True, exist_ok=True)
        database = shared_database(f"sqlite:///{path}")
    upgrade(database)
    return database


def open_store_database(database: Database | Path) -> tuple[Database, bool]:
    """A store's database from a `Database` (shared, not the store's to close) or a SQLite file path (the
    store's own pool), migrated."""
    if isinstance(database, Database):
        upgrade(database)
        return database, False
    owned = Database.sqlite_file(Path(database))
    upgrade(owned)
    return owned, True


def database_for(settings: Settings, store: StoreName) -> Database:
    """`store_database` from the settings (POLICYBOT_DATABASE_URL, POLICYBOT_DATA_DIR)."""
    return store_database(settings.database_url, settings.resolved(settings.data_dir), store)
