"""INSERT … ON CONFLICT in the dialect of the connection (SQLite and PostgreSQL spell it alike)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(connection: Connection, table: Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert(connection: Connection, table: Table, values: Mapping[str, Any], update: Sequence[str]) -> None:
    """Insert `values`, or update the `update` columns of the row with the same primary key."""
    statement = _insert(connection, table).values(**values)
    keys = [c.name for c in table.primary_key.columns]
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in update}
        )
    )


def insert_new(connection: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert `values` unless a row with the same primary key exists; True when this call inserted it."""
    key = next(iter(table.primary_key.columns))
    statement = _insert(connection, table).values(**values).on_conflict_do_nothing().returning(key)
    return connection.execute(statement).first() is not None
