"""Alembic migrations of the storage schema; `bot.storage.migrate.upgrade` runs them (no alembic.ini)."""
