"""Throwaway PostgreSQL schemas for tests, on a server other checkouts may be testing on too."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

# The extensions the search backend installs. An extension belongs to the whole database but
# lives in one schema: installed in a test schema, it went when that schema was dropped, and
# took with it the text search configuration of every other schema using it (another
# checkout's tests then failed with "search_folded does not exist").
SHARED_EXTENSIONS = ("unaccent", "pg_trgm")


def fresh_schema(connection: Connection, schema: str) -> None:
    """Drops and creates a schema, with the shared extensions kept in `public` (no test drops
    it), moved there if an earlier run installed them elsewhere."""
    for name in SHARED_EXTENSIONS:
        try:
            with connection.begin_nested():
                connection.execute(text(f"CREATE EXTENSION IF NOT EXISTS {name} SCHEMA public"))
                connection.execute(text(f"ALTER EXTENSION {name} SET SCHEMA public"))
        except DBAPIError:
            pass  # not allowed to install or move it: the backend falls back without it
    connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
