"""Alembic environment: runs on the connection given by `service.db.migrate`, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers every table)

config = context.config
target_metadata = SQLModel.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # The search backends own their `search_*` tables (FTS, tsvector); they are not ours to diff.
    return not (
        type_ == "table"
        and name is not None
        and name.startswith("search_")
        and reflected
        and compare_to is None
    )


def run_migrations(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        run_migrations(conn)
        conn.commit()
