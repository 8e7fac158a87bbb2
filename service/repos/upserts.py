"""Inserts that may meet a row another transaction wrote first (two workers, or a need's job
and an expert's job, writing the same pair at once): one INSERT ... ON CONFLICT statement,
so the loser of the race updates (or keeps) the winner's row instead of failing on the
unique constraint. Every table with a natural key goes through `upsert`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ColumnCollection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

# Bound parameters per statement, under SQLite's limit (32,766) and PostgreSQL's (65,535).
MAX_PARAMETERS = 30_000
Excluded = ColumnCollection[str, Any]


def table_of(model: type[SQLModel]) -> Table:
    """Gets a model's table."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def upsert(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    set_: Callable[[Excluded], Mapping[str, Any]] | None = None,
    refresh: bool = False,
) -> None:
    """Inserts rows in the caller's transaction (no commit); a row whose `keys` are taken is
    updated with `set_(excluded)` (`excluded`: the values that were to be inserted; a column of
    the table itself reads the row already there), or left as it is without `set_`.

    Rows go in key order, so two transactions writing overlapping rows lock them in the same
    order (PostgreSQL) instead of each waiting for the other.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        make = pg_insert
    elif dialect == "sqlite":
        make = sqlite_insert  # type: ignore[assignment]
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"no upsert for {dialect}")
    ordered = sorted(rows, key=lambda row: tuple(row[k] for k in keys))
    per_statement = max(1, MAX_PARAMETERS // len(ordered[0]))
    for start in range(0, len(ordered), per_statement):
        values = list(ordered[start : start + per_statement])
        statement = make(model if refresh else table_of(model)).values(values)
        if set_ is None:
            statement = statement.on_conflict_do_nothing(index_elements=list(keys))
        else:
            statement = statement.on_conflict_do_update(
                index_elements=list(keys), set_=dict(set_(statement.excluded))
            )
        if refresh:
            options = {"populate_existing": True}
            session.scalars(statement.returning(model), execution_options=options).all()
        else:
            session.execute(statement)
